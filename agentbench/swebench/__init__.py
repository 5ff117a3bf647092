"""SWE-bench instances as a suite: records, repositories, specs and grading by swebench's code."""

"""SWE-bench instances as a suite: records, repositories, images, specs and grading by swebench's code
(imported through `upstream`, and only by the modules that need it)."""

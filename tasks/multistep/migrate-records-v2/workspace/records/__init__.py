"""Shipment records: storage, schema and migrations."""

"""Submitting departments (报送部门) as operational data: stored in the database, seeded from
the catalogue's ``departments.yaml``, changed by operators through audited service calls.
Every reader of departments (delivery permission, pages, checks, measures, accounts) asks
``service``."""

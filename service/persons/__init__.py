"""Persons (enquirers, sought persons, registrations), their names and relationships."""

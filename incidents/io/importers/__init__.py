"""Importers: one module per file format, each turning rows into IncidentRecords with row errors collected."""

"""Spreadsheet import/export engine: read CSV/XLSX as spreadsheets really produce them, validate
every row set-wise, then write in bulk in one transaction — or write nothing and say which line,
column and value is wrong."""

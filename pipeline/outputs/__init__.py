"""What people read: the report, the export, county feedback workbooks, the blank template, the shell and the data dictionary."""

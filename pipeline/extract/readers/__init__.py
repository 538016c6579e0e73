"""Reading workbooks: cell values from python-calamine, what it cannot see from the XML."""

"""Decision records: the record form, saving and corrections, who may see which, exports and export jobs."""

"""The family view: the family's common-language case view (one `caseView` with audience FAMILY) rendered
as a print-ready page, HTML or PDF, in the reader's language."""

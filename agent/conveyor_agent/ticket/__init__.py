"""ticket: JIRA issues and ServiceNow records, created, read, updated,
transitioned and commented on."""

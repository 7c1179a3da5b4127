"""The officers' pages: the queue, a report's page, the workflow's actions, dashboards."""

"""Reports (举报/线索): the model, photos and evidence, the state table, the one function
that changes a report's state, and urgency. No pages live here."""

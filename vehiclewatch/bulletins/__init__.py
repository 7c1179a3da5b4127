"""The weekly bulletin (每周一督通报): a round's figures and typical cases, approved by a
leader and then published as a page and a PDF."""

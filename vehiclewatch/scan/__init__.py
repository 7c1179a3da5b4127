"""The public pages a phone opens: a sticker's vehicle identity and manual look-up."""

"""The calendar: holiday periods (entered as data), working days, and the campaigns and weekly
rounds derived from them. It knows nothing of reports; it says when holidays change."""

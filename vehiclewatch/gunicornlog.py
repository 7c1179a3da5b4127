"""gunicorn's error log without client addresses (its access log format has none either)."""

import logging
import re

from gunicorn.glogging import Logger

# gunicorn names the client of a malformed request: "Invalid request from ip=203.0.113.9: …".
CLIENT_ADDRESS = re.compile(r"\bip=.*?(?=: |$)")


class NoClientAddress(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "ip=" in message:
            record.msg, record.args = CLIENT_ADDRESS.sub("ip=-", message), None
        return True


class AddresslessLogger(Logger):
    """`--logger-class vehiclewatch.gunicornlog.AddresslessLogger`; `vehiclewatch serve` sets it."""

    def setup(self, cfg):
        super().setup(cfg)
        self.error_log.addFilter(NoClientAddress())

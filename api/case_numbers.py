"""Case numbers live in the shared package (the bot needs them too); this name stays for the
service's imports."""

from common.case_numbers import LENGTH, check_digit, is_valid, new_case_number, parse_case_number

__all__ = ["LENGTH", "check_digit", "is_valid", "new_case_number", "parse_case_number"]

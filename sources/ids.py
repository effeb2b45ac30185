"""ID-number columns for a frame: the domain's staged implementation (kept as the readers' import point)."""

from fangpin.domain.idnumber import add_id_columns

__all__ = ["add_id_columns"]

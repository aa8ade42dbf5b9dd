"""Reconciliation of clerks' spreadsheets (主体名称对账): the W3C Reconciliation Service API
(version 0.2, the protocol OpenRefine speaks) over the subject registry."""

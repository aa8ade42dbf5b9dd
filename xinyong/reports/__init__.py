"""Credit reports (公共信用信息报告): content, issue and verification, PDF.

- ``content``: the report's content as a canonical JSON snapshot, read only through the
  disclosure engine (public report: what the public sees; self report: what the subject sees,
  plus who queried its non-public information);
- ``service``: ``issue_report`` stores the snapshot under a random report number with its
  SHA-256; ``verify_report`` recomputes the hash;
- ``pdf``: renders a stored snapshot, deterministically, with an embedded TrueType CJK font.
"""

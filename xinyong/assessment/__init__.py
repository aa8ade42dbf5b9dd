"""Department assessment (部门考核): per department and month, from what the platform already
holds — 双公示 timeliness on the working-day calendar, linking, acceptance, regularity against
each dataset's expected period, feedback on checks, cases handled in time — weighted by
``catalog/assessment.yaml``, ranked with reasons, and published as a 通报; and data monitoring
(数据监测): departments silent past a dataset's period or outside its expected volume."""

"""The working-day calendar (工作日历): which days are 工作日, from the State Council's yearly
notices kept as data in ``catalog/calendar/YYYY.yaml``, then ``chinese_calendar``, then (for a
year neither knows) Monday to Friday, marked provisional (暂定)."""

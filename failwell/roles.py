"""The three roles of DESIGN.md, as Django groups."""

OVERSIGHT_OFFICER = "Oversight officers"
TURNAROUND_LEAD = "Turnaround leads"
ADMINISTRATOR = "Administrators"

ROLES = (OVERSIGHT_OFFICER, TURNAROUND_LEAD, ADMINISTRATOR)

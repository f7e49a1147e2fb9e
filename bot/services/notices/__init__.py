"""Notices (информирование): content and audience, planning and steering, the checked service API."""

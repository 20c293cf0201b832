"""Constants, limits and value types of the support tickets, shared by the ticket's files,
the portal controller and the tests (as rating/models/rating_data.py)."""

PRIORITIES = [
    ("0", "Low"),
    ("1", "Normal"),
    ("2", "High"),
    ("3", "Urgent"),
]
STATES = [
    ("new", "New"),
    ("open", "Open"),
    ("resolved", "Resolved"),
]
# Fields sent in bus notifications and shown to customers: nothing internal.
PUBLIC_FIELDS = [
    "id",
    "reference",
    "name",
    "state",
    "priority",
    "partner_id",
    "user_id",
    "channel_id",
    "create_date",
    "resolved_date",
]
SLA_STATUSES = [
    ("none", "No target"),
    ("on_track", "On track"),
    ("at_risk", "At risk"),
    ("breached", "Breached"),
    ("met", "Met"),
]
# Options of a field that only the server writes: not editable in the views,
# and a copy of the record starts without it.
SERVER_SET = {"readonly": True, "copy": False}
# A change of one of these fields is a domain event ("updated" or "resolved").
EVENT_FIELDS = {"state", "priority", "user_id", "name", "livechat_channel_id"}
SUBJECT_MAX_LENGTH = 200
MESSAGE_MAX_LENGTH = 10000
MAX_FILES_PER_MESSAGE = 10
DEFAULT_MAX_UPLOAD_MB = 10
# "count/seconds" per customer, overridable by system parameters
DEFAULT_RATE_LIMITS = {
    "messages": "30/60",
    "tickets": "10/3600",
}
# Checked on the content, never on the file name: what a customer may upload.
ALLOWED_MIMETYPES = {
    "image/jpeg",
    "image/png",
    "image/gif",
    "image/webp",
    "application/pdf",
    "text/plain",
    "application/msword",
    "application/vnd.ms-excel",
    "application/vnd.ms-powerpoint",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "application/vnd.oasis.opendocument.text",
    "application/vnd.oasis.opendocument.spreadsheet",
    "application/vnd.oasis.opendocument.presentation",
}

# Written above the quoted history of an e-mail to a customer: their reply is
# what comes before it.
REPLY_MARKER = "##-"


class CheckedAttachmentIds(frozenset):
    """Ids of files the server created after checking their content: passed
    to ``message_post`` so that it does not read them again. A Python object:
    no JSON-RPC call can pass one."""

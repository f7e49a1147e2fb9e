"""Database models (SQLAlchemy 2 declarative, typed), one module per aggregate.

Importing the package registers every table on `Base.metadata` (Alembic and `create_all` need all).
"""

from storage.models.base import Base, utcnow
from storage.models.chats import CommsChat, Operator, OperatorChat
from storage.models.citizens import LinkCode, Subscription
from storage.models.delivery import OutboxMessage
from storage.models.examples import SectorExample
from storage.models.incidents import Incident, SpikeAlert
from storage.models.notices import Notice
from storage.models.reference import BlockContact, Body, Municipality, ReferenceVersion, RoutingRule, Sector
from storage.models.reports import Citizen, Report, ReportThread, SlaEvent, StatusChange
from storage.models.staff import AuditEvent, StaffInvite, StaffMember, StaffRole
from storage.models.updates import DialogStateRow, InboundUpdate

__all__ = [
    "AuditEvent",
    "Base",
    "BlockContact",
    "Body",
    "Citizen",
    "CommsChat",
    "DialogStateRow",
    "InboundUpdate",
    "Incident",
    "LinkCode",
    "Municipality",
    "Notice",
    "Operator",
    "OperatorChat",
    "OutboxMessage",
    "ReferenceVersion",
    "Report",
    "ReportThread",
    "RoutingRule",
    "Sector",
    "SectorExample",
    "SlaEvent",
    "SpikeAlert",
    "StaffInvite",
    "StaffMember",
    "StaffRole",
    "StatusChange",
    "Subscription",
    "utcnow",
]

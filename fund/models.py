"""The models Django loads for the fund app, defined in its sub-packages and re-exported by name."""

from fund.ledger.models import Account as Account
from fund.ledger.models import AccountDay as AccountDay
from fund.ledger.models import BooksLock as BooksLock
from fund.ledger.models import Commitment as Commitment
from fund.ledger.models import Fund as Fund
from fund.ledger.models import LedgerHead as LedgerHead
from fund.ledger.models import Posting as Posting
from fund.ledger.models import Seal as Seal
from fund.ledger.models import SupportedCase as SupportedCase
from fund.ledger.models import Transaction as Transaction
from fund.reports.models import ReportRun as ReportRun
from fund.security.models import AccessLog as AccessLog
from fund.security.models import ApiToken as ApiToken
from fund.security.models import SecurityEvent as SecurityEvent
from fund.security.models import UserEvent as UserEvent
from fund.security.models import UserGroupEvent as UserGroupEvent

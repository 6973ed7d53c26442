"""Books by effective date: daily checkpoints with end-of-day balances, a lock date per fund
instead of monthly periods, the lock's change log, seals, each fund's opening day, and the
database rules a transaction row must keep.

Existing data carries over: checkpoints are recomputed from the postings; the lock date becomes the
end of the latest closed month and each period change becomes a lock change.
"""

import django.db.models.deletion
import django.db.models.functions.datetime
from django.conf import settings
from django.db import migrations, models

DROP_OLD_MACHINERY = """
DROP TRIGGER fund_transaction_period ON fund_transaction;
DROP FUNCTION fund_transaction_check_period();
DROP TRIGGER fund_posting_apply ON fund_posting;
DROP FUNCTION fund_posting_apply();
DROP TRIGGER fund_account_balance_guard ON fund_account;
DROP TRIGGER fund_accountmonth_guard ON fund_accountmonth;
DROP FUNCTION fund_refuse_direct_balance_change();
DROP TRIGGER fund_ledgerhead_guard ON fund_ledgerhead;
DROP FUNCTION fund_refuse_direct_head_change();
DROP FUNCTION fund_post(bigint, text, text, date, text, text, text, text, text, bigint, bigint,
                        timestamptz, text, bigint[], bigint[], integer, integer, boolean);
"""

OPENING_DAYS = """
UPDATE fund_fund f SET opened_on = least(
    (f.created_at AT TIME ZONE 'UTC')::date,
    coalesce((SELECT min(effective_date) FROM fund_transaction t WHERE t.fund_id = f.id),
             (f.created_at AT TIME ZONE 'UTC')::date));
"""

POSTING_DATES = """
ALTER TABLE fund_posting DISABLE TRIGGER fund_posting_append_only;
UPDATE fund_posting p SET effective_date = t.effective_date
    FROM fund_transaction t WHERE t.id = p.transaction_id;
ALTER TABLE fund_posting ENABLE TRIGGER fund_posting_append_only;
"""

CARRY_OVER = """
INSERT INTO fund_accountday (account_id, day, debit_cents, credit_cents, balance_cents)
SELECT account_id, day, debits, credits,
       sum(debits - credits) OVER (PARTITION BY account_id ORDER BY day)
FROM (SELECT account_id, effective_date AS day,
             sum(greatest(amount_cents, 0)) AS debits, sum(greatest(-amount_cents, 0)) AS credits
      FROM fund_posting GROUP BY account_id, effective_date) AS days;

INSERT INTO fund_bookslock (fund_id, closed_through, previous, actor_id, reason, at)
SELECT p.fund_id,
       CASE WHEN c.action = 'close' THEN (p.month + interval '1 month' - interval '1 day')::date
            ELSE (p.month - interval '1 day')::date END,
       NULL, c.actor_id, c.reason, c.at
FROM fund_periodchange c JOIN fund_period p ON p.id = c.period_id
ORDER BY c.at, c.id;

UPDATE fund_ledgerhead h SET closed_through = (
    SELECT max((p.month + interval '1 month' - interval '1 day')::date)
    FROM fund_period p WHERE p.fund_id = h.fund_id AND p.is_closed);

INSERT INTO fund_bookslock (fund_id, closed_through, previous, actor_id, reason, at)
SELECT h.fund_id, h.closed_through, NULL, NULL,
       'Carried over from the monthly periods: closed through the latest closed month.', now()
FROM fund_ledgerhead h WHERE h.closed_through IS NOT NULL;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("fund", "0006_accesslog_append_only"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunSQL(DROP_OLD_MACHINERY, migrations.RunSQL.noop),
        migrations.AddField(
            model_name="fund",
            name="opened_on",
            field=models.DateField(null=True, help_text="The first day of the fund's books."),
        ),
        migrations.RunSQL(OPENING_DAYS, migrations.RunSQL.noop),
        migrations.AlterField(
            model_name="fund",
            name="opened_on",
            field=models.DateField(help_text="The first day of the fund's books."),
        ),
        migrations.AddField(
            model_name="ledgerhead",
            name="closed_through",
            field=models.DateField(
                blank=True,
                help_text="Books are closed through this day (null: nothing is).",
                null=True,
            ),
        ),
        migrations.AddField(
            model_name="posting",
            name="effective_date",
            field=models.DateField(editable=False, null=True),
        ),
        migrations.RunSQL(POSTING_DATES, migrations.RunSQL.noop),
        migrations.AlterField(
            model_name="posting",
            name="effective_date",
            field=models.DateField(editable=False),
        ),
        migrations.AddIndex(
            model_name="posting",
            index=models.Index(
                fields=["account", "effective_date", "id"], name="fund_posting_by_date"
            ),
        ),
        migrations.CreateModel(
            name="AccountDay",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("day", models.DateField()),
                ("debit_cents", models.BigIntegerField(default=0)),
                ("credit_cents", models.BigIntegerField(default=0)),
                ("balance_cents", models.BigIntegerField(default=0)),
                (
                    "account",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="days",
                        to="fund.account",
                    ),
                ),
            ],
            options={
                "ordering": ["account", "day"],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("account", "day"), name="fund_accountday_unique"
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="BooksLock",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("closed_through", models.DateField(blank=True, null=True)),
                ("previous", models.DateField(blank=True, null=True)),
                ("reason", models.CharField(blank=True, max_length=500)),
                ("at", models.DateTimeField()),
                (
                    "actor",
                    models.ForeignKey(
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "fund",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="locks",
                        to="fund.fund",
                    ),
                ),
            ],
            options={"ordering": ["-at", "-id"]},
        ),
        migrations.CreateModel(
            name="Seal",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("reference", models.CharField(blank=True, max_length=20)),
                ("transaction_count", models.BigIntegerField()),
                ("chain_head", models.CharField(max_length=64)),
                ("closed_through", models.DateField(blank=True, null=True)),
                ("occasion", models.CharField(max_length=200)),
                ("sealed_at", models.DateTimeField()),
                ("key_id", models.CharField(max_length=16)),
                ("statement", models.TextField()),
                ("signature", models.CharField(max_length=100)),
                (
                    "fund",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="seals",
                        to="fund.fund",
                    ),
                ),
            ],
            options={"ordering": ["-sealed_at", "-id"]},
        ),
        migrations.RunSQL(CARRY_OVER, migrations.RunSQL.noop),
        migrations.DeleteModel(name="AccountMonth"),
        migrations.DeleteModel(name="PeriodChange"),
        migrations.DeleteModel(name="Period"),
        migrations.AddConstraint(
            model_name="transaction",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("year", django.db.models.functions.datetime.ExtractYear("effective_date"))
                ),
                name="fund_transaction_year",
            ),
        ),
        migrations.AddConstraint(
            model_name="transaction",
            constraint=models.CheckConstraint(
                condition=models.Q(("number__gte", 1)), name="fund_transaction_number"
            ),
        ),
        migrations.AddConstraint(
            model_name="transaction",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    (
                        "kind__in",
                        [
                            "gift_online",
                            "gift_offline",
                            "stripe_fee",
                            "refund",
                            "dispute",
                            "dispute_won",
                            "payout",
                            "deposit",
                            "disbursement",
                            "bond_posted",
                            "bond_refunded",
                            "bond_forfeited",
                            "opening_balance",
                            "journal",
                            "reversal",
                        ],
                    )
                ),
                name="fund_transaction_known_kind",
            ),
        ),
        migrations.AddConstraint(
            model_name="transaction",
            constraint=models.CheckConstraint(
                condition=models.Q(("memo__regex", "^\\s*$"), _negated=True),
                name="fund_transaction_has_memo",
            ),
        ),
        migrations.AddConstraint(
            model_name="transaction",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("kind", "reversal"), ("reverses__isnull", False)),
                    models.Q(
                        models.Q(("kind", "reversal"), _negated=True),
                        ("reverses__isnull", True),
                    ),
                    _connector="OR",
                ),
                name="fund_transaction_reversal_links",
            ),
        ),
    ]

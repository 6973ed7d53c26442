"""Field encryption: AES-256-GCM values bound to column and row, padded, and raising on anything
else."""

import base64
import io
import logging
import string

import pytest
from django.core.exceptions import FieldError, ImproperlyConfigured
from django.core.management import call_command
from django.db import connection, transaction
from django.test import override_settings
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from fund.security import crypto
from fund.security.crypto import DecryptionError
from fund.security.fields import UNREADABLE, EncryptedTextField, Sealed, readable
from tests.cryptoapp.models import RenamedSecret, Secret

CONTEXT = "cases.Person.legal_name"
OLD = "old:" + base64.b64encode(b"o" * 32).decode()
NEW = "new:" + base64.b64encode(b"n" * 32).decode()
OTHER_WITH_OLD_ID = "old:" + base64.b64encode(b"x" * 32).decode()
FULLWIDTH_A_NUMBER = "\uff21\uff11\uff12\uff13\uff14\uff15\uff16\uff17\uff18\uff19"


def body(token: str) -> bytes:
    """Return nonce + ciphertext + tag of an encrypted value."""
    encoded = token.split(":", 2)[2]
    return base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))


def with_body(token: str, raw: bytes) -> str:
    version, kid, _ = token.split(":", 2)
    return f"{version}:{kid}:{base64.urlsafe_b64encode(raw).rstrip(b'=').decode()}"


def flip(raw: bytes, position: int) -> bytes:
    return raw[:position] + bytes([raw[position] ^ 0x01]) + raw[position + 1 :]


ROW = "5f0c1e9a-3b7d-4f8e-9a61-2c4d8e0b7f13"


def raw_column(model, pk: int, column: str) -> str | None:
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        column = connection.ops.quote_name(column)
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk])
        return cursor.fetchone()[0]


def set_raw_column(model, pk: int, column: str, value: str) -> None:
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET {connection.ops.quote_name(column)} = %s WHERE id = %s",
            [value, pk],
        )


# The primitives


def test_a_value_round_trips():
    token = crypto.encrypt("Maria Elena Ríos", context=CONTEXT, row=ROW)
    assert token.startswith("v2:k1:")
    assert "Maria" not in token
    assert crypto.decrypt(token, context=CONTEXT, row=ROW) == "Maria Elena Ríos"


def test_a_value_from_another_row_raises():
    token = crypto.encrypt("A123456789", context=CONTEXT, row=ROW)
    for other in ("", ROW.upper(), ROW[:-1] + "4"):
        with pytest.raises(DecryptionError, match="copied from another field or row"):
            crypto.decrypt(token, context=CONTEXT, row=other)


@hypothesis_settings(max_examples=200, deadline=None)
@given(st.text())
def test_any_unicode_text_round_trips(plaintext):
    assert crypto.decrypt(crypto.encrypt(plaintext, context=CONTEXT), context=CONTEXT) == plaintext


def test_unicode_beyond_the_basic_plane_round_trips():
    text = "阮氏 Nguyễn — 🌻 \u0000 \U0010ffff"
    assert crypto.decrypt(crypto.encrypt(text, context=CONTEXT), context=CONTEXT) == text


def test_the_empty_string_is_encrypted_and_round_trips():
    token = crypto.encrypt("", context=CONTEXT)
    assert len(body(token)) == crypto.NONCE_BYTES + 32 + crypto.TAG_BYTES
    assert crypto.decrypt(token, context=CONTEXT) == ""


@pytest.mark.parametrize(
    ("length", "bucket"),
    [(0, 32), (31, 32), (32, 64), (100, 128), (4095, 4096), (4096, 8192), (8192, 12288)],
)
def test_plaintexts_are_padded_to_buckets(length, bucket):
    # A name of 3 letters and one of 30 look alike; only the bucket shows.
    assert crypto.bucket_size(length) == bucket
    token = crypto.encrypt("x" * length, context=CONTEXT)
    assert len(body(token)) == crypto.NONCE_BYTES + bucket + crypto.TAG_BYTES


def test_names_of_different_lengths_store_alike():
    lengths = {
        len(crypto.encrypt(name, context=CONTEXT)) for name in ("Ana", "María José Hernández")
    }
    assert len(lengths) == 1


@pytest.mark.parametrize("padded", [b"Maria", b"Maria\x80\x00", b"Maria" + b"\x00" * 27, b""])
def test_a_value_authentic_but_badly_padded_is_refused(padded):
    """Made with the right key and associated data, so only the padding check can refuse it."""
    nonce = bytes(crypto.NONCE_BYTES)
    sealed = crypto.keyring().ciphers["k1"].encrypt(nonce, padded, f"v2:k1:{CONTEXT}\x00".encode())
    token = "v2:k1:" + base64.urlsafe_b64encode(nonce + sealed).rstrip(b"=").decode()
    with pytest.raises(DecryptionError, match="malformed"):
        crypto.decrypt(token, context=CONTEXT)


def test_encrypting_the_same_value_twice_uses_fresh_nonces():
    tokens = {crypto.encrypt("A123456789", context=CONTEXT) for _ in range(50)}
    assert len(tokens) == 50
    assert len({body(token)[: crypto.NONCE_BYTES] for token in tokens}) == 50


def test_a_wrong_key_under_the_same_key_id_raises():
    with override_settings(FIELD_ENCRYPTION_KEYS=[OLD]):
        token = crypto.encrypt("secret", context=CONTEXT)
    with (
        override_settings(FIELD_ENCRYPTION_KEYS=[OTHER_WITH_OLD_ID]),
        pytest.raises(DecryptionError, match="failed authentication under key id 'old'"),
    ):
        crypto.decrypt(token, context=CONTEXT)


def test_an_unknown_key_id_raises_and_names_it():
    with override_settings(FIELD_ENCRYPTION_KEYS=[OLD]):
        token = crypto.encrypt("secret", context=CONTEXT)
    with pytest.raises(DecryptionError, match="key id 'old'"):
        crypto.decrypt(token, context=CONTEXT)


def test_a_value_relabelled_with_another_configured_key_id_raises():
    with override_settings(FIELD_ENCRYPTION_KEYS=[OLD, NEW]):
        token = crypto.encrypt("secret", context=CONTEXT)
        with pytest.raises(DecryptionError):
            crypto.decrypt(token.replace("v2:old:", "v2:new:"), context=CONTEXT)


def test_a_value_from_another_field_raises():
    token = crypto.encrypt("A123456789", context="cases.Person.a_number")
    with pytest.raises(DecryptionError, match=f"for {CONTEXT} failed authentication"):
        crypto.decrypt(token, context=CONTEXT)


@pytest.mark.parametrize(
    "region",
    ["nonce", "ciphertext", "tag"],
)
def test_a_flipped_bit_anywhere_in_the_sealed_body_raises(region):
    token = crypto.encrypt("Maria Elena Ríos", context=CONTEXT)
    raw = body(token)
    nonce_end, tag_start = crypto.NONCE_BYTES, len(raw) - crypto.TAG_BYTES
    positions = {
        "nonce": range(nonce_end),
        "ciphertext": range(nonce_end, tag_start),
        "tag": range(tag_start, len(raw)),
    }[region]
    assert len(positions) > 0
    for position in positions:
        with pytest.raises(DecryptionError):
            crypto.decrypt(with_body(token, flip(raw, position)), context=CONTEXT)


def test_any_changed_character_of_the_stored_value_raises():
    """Header, separators, key id and every base64 character, including unused padding bits."""
    token = crypto.encrypt("Maria", context=CONTEXT)
    alphabet = string.ascii_letters + string.digits + "-_:"
    for position, original in enumerate(token):
        for replacement in {alphabet[(alphabet.index(original) + 1) % len(alphabet)], "="}:
            tampered = token[:position] + replacement + token[position + 1 :]
            with pytest.raises(DecryptionError):
                crypto.decrypt(tampered, context=CONTEXT)


@pytest.mark.parametrize(
    "stored",
    [
        "Maria Elena Ríos",
        "",
        "v2:k1:",
        "v2:k1:AAAA",
        "v1:k1:" + "A" * 80,
        "v2::" + "A" * 80,
        "v2:k1",
    ],
)
def test_a_value_that_is_not_a_complete_ciphertext_raises_and_is_never_returned(stored):
    with pytest.raises(DecryptionError) as raised:
        crypto.decrypt(stored, context=CONTEXT)
    if stored:
        assert stored not in str(raised.value)


def test_a_truncated_or_extended_value_raises():
    token = crypto.encrypt("Maria", context=CONTEXT)
    raw = body(token)
    for tampered in (with_body(token, raw[:-1]), with_body(token, raw + b"\x00"), token[:-4]):
        with pytest.raises(DecryptionError):
            crypto.decrypt(tampered, context=CONTEXT)


# Configuration errors: clear, raised at first use, and never showing key material


@pytest.mark.parametrize(
    ("keys", "message"),
    [
        ([], "FIELD_ENCRYPTION_KEYS is empty"),
        (["nokeyid"], "entry 1 is not 'key_id:base64key'"),
        ([OLD, "bad id:" + base64.b64encode(b"b" * 32).decode()], "entry 2 is not"),
        (["k1:" + base64.b64encode(b"short").decode()], "'k1' is 5 bytes; AES-256 needs exactly"),
        (["k1:" + base64.b64encode(b"l" * 48).decode()], "'k1' is 48 bytes"),
        (["k1:not base64!!"], "'k1' is not valid base64"),
        ([OLD, OTHER_WITH_OLD_ID], "names key id 'old' twice"),
    ],
)
def test_bad_key_configuration_raises_improperly_configured_at_first_use(keys, message):
    with override_settings(FIELD_ENCRYPTION_KEYS=keys):
        with pytest.raises(ImproperlyConfigured, match=message) as raised:
            crypto.encrypt("x", context=CONTEXT)
        for entry in keys:
            secret = entry.partition(":")[2]
            if secret:
                assert secret not in str(raised.value)


def test_keys_may_be_given_as_one_comma_separated_string():
    with override_settings(FIELD_ENCRYPTION_KEYS=f" {NEW} , {OLD} ,"):
        assert crypto.primary_key_id() == "new"
        assert set(crypto.keyring().ciphers) == {"new", "old"}


def test_url_safe_base64_keys_are_accepted():
    key = base64.urlsafe_b64encode(bytes(range(200, 232))).decode()
    assert "-" in key or "_" in key
    with override_settings(FIELD_ENCRYPTION_KEYS=[f"u:{key}"]):
        assert crypto.decrypt(crypto.encrypt("x", context=CONTEXT), context=CONTEXT) == "x"


def test_generated_key_lines_are_usable():
    line = crypto.generate_key_line("k2026")
    with override_settings(FIELD_ENCRYPTION_KEYS=[line]):
        assert crypto.primary_key_id() == "k2026"
        assert crypto.decrypt(crypto.encrypt("x", context=CONTEXT), context=CONTEXT) == "x"
    assert crypto.generate_key_line("k2026") != line


def test_generate_field_key_prints_a_key_line_and_a_blind_index_key():
    out = io.StringIO()
    call_command("generate_field_key", "--key-id", "k9", stdout=out)
    line = out.getvalue().strip()
    assert line.startswith("k9:")
    assert len(base64.b64decode(line.partition(":")[2])) == 32
    out = io.StringIO()
    call_command("generate_field_key", "--blind-index", stdout=out)
    with override_settings(BLIND_INDEX_KEY=out.getvalue().strip()):
        assert crypto.blind_index("A123", context="x")


# Blind index


def test_blind_index_is_stable_and_ignores_case_spaces_and_punctuation():
    index = crypto.blind_index("A-123 456 789", context="cases.Person.a_number")
    assert index == crypto.blind_index("a123456789", context="cases.Person.a_number")
    assert index == crypto.blind_index(FULLWIDTH_A_NUMBER, context="cases.Person.a_number")
    assert len(index) == 64
    assert "123456789" not in index


def test_blind_index_differs_by_value_context_and_key():
    index = crypto.blind_index("A123456789", context="cases.Person.a_number")
    assert index != crypto.blind_index("A123456780", context="cases.Person.a_number")
    assert index != crypto.blind_index("A123456789", context="cases.Person.phone")
    with override_settings(BLIND_INDEX_KEY=base64.b64encode(b"z" * 32).decode()):
        assert index != crypto.blind_index("A123456789", context="cases.Person.a_number")


def test_blind_index_does_not_change_when_encryption_keys_rotate():
    with override_settings(FIELD_ENCRYPTION_KEYS=[OLD]):
        before = crypto.blind_index("A123456789", context="cases.Person.a_number")
    with override_settings(FIELD_ENCRYPTION_KEYS=[NEW, OLD]):
        assert crypto.blind_index("A123456789", context="cases.Person.a_number") == before


@pytest.mark.parametrize(
    "typed",
    [
        "A012345678",
        "A-012-345-678",
        "012345678",
        "12345678",
        "a 012 345 678",
        FULLWIDTH_A_NUMBER[:1] + "\uff10\uff11\uff12\uff13\uff14\uff15\uff16\uff17\uff18",
    ],
)
def test_an_a_number_is_found_however_it_was_typed(typed):
    assert crypto.a_number_index(typed, context="cases.Case.a_number") == crypto.a_number_index(
        "12345678", context="cases.Case.a_number"
    )


def test_a_numbers_that_differ_in_a_digit_do_not_match():
    assert crypto.normalise_a_number("A-012-345-678") == "12345678"
    assert crypto.a_number_index("A012345678", context="x") != crypto.a_number_index(
        "A012345679", context="x"
    )
    with pytest.raises(ValueError, match="empty"):
        crypto.a_number_index("A-000", context="x")


def test_blind_index_refuses_an_empty_value():
    with pytest.raises(ValueError, match="empty"):
        crypto.blind_index(" - ", context="cases.Person.a_number")


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("", "BLIND_INDEX_KEY is empty"),
        (base64.b64encode(b"s" * 16).decode(), "BLIND_INDEX_KEY is 16 bytes"),
        ("%%%", "BLIND_INDEX_KEY is not valid base64"),
    ],
)
def test_a_bad_blind_index_key_raises_improperly_configured(key, message):
    with (
        override_settings(BLIND_INDEX_KEY=key),
        pytest.raises(ImproperlyConfigured, match=message),
    ):
        crypto.blind_index("A123", context="x")


# The model field


@pytest.mark.django_db
def test_the_field_stores_ciphertext_and_loads_plaintext():
    secret = Secret.objects.create(label="a", note="Maria Elena Ríos", phone="+1 555 0100")
    stored = raw_column(Secret, secret.pk, "note")
    assert stored.startswith("v2:k1:")
    assert "Maria" not in stored
    loaded = Secret.objects.get(pk=secret.pk)
    assert loaded.note == "Maria Elena Ríos"
    assert loaded.phone == "+1 555 0100"
    assert crypto.decrypt(stored, context="cryptoapp.Secret.note", row=str(secret.row_key)) == (
        "Maria Elena Ríos"
    )


@pytest.mark.django_db
def test_the_field_keeps_null_as_null_and_encrypts_the_empty_string():
    secret = Secret.objects.create(label="a", note="", phone=None)
    assert raw_column(Secret, secret.pk, "phone") is None
    assert raw_column(Secret, secret.pk, "note").startswith("v2:k1:")
    loaded = Secret.objects.get(pk=secret.pk)
    assert loaded.note == ""
    assert loaded.phone is None


@pytest.mark.django_db
def test_saving_changes_and_bulk_creating_encrypt_for_each_row():
    first, _ = Secret.objects.bulk_create(
        [Secret(label="a", note="one"), Secret(label="b", note="two")]
    )
    first.note = "uno"
    first.save(update_fields=["note"])
    for secret in Secret.objects.all():
        assert raw_column(Secret, secret.pk, "note").startswith("v2:k1:")
    assert sorted(secret.note for secret in Secret.objects.all()) == ["two", "uno"]


@pytest.mark.django_db
def test_queryset_writes_that_cannot_encrypt_for_each_row_are_refused():
    secret = Secret.objects.create(label="a", note="one")
    stored = raw_column(Secret, secret.pk, "note")
    secret.note = "dos"
    for write in (
        lambda: Secret.objects.filter(pk=secret.pk).update(note="uno"),
        lambda: Secret.objects.bulk_update([secret], ["note"]),
    ):
        with pytest.raises(FieldError, match="set it on the object and save"), transaction.atomic():
            write()
    assert raw_column(Secret, secret.pk, "note") == stored


@pytest.mark.django_db
def test_values_give_sealed_values_that_never_print_their_contents():
    Secret.objects.create(label="a", note="Maria")
    (sealed,) = Secret.objects.values_list("note", flat=True)
    assert isinstance(sealed, Sealed)
    assert "Maria" not in f"{sealed} {sealed!r}"
    assert sealed.ciphertext.startswith("v2:k1:")


@pytest.mark.django_db
def test_reading_a_tampered_value_raises():
    secret = Secret.objects.create(label="a", note="Maria")
    stored = raw_column(Secret, secret.pk, "note")
    set_raw_column(Secret, secret.pk, "note", with_body(stored, flip(body(stored), 20)))
    loaded = Secret.objects.get(pk=secret.pk)
    with pytest.raises(DecryptionError):
        _ = loaded.note


@pytest.mark.django_db
def test_reading_a_plaintext_value_raises_instead_of_returning_it():
    secret = Secret.objects.create(label="a", note="x")
    set_raw_column(Secret, secret.pk, "note", "Maria Elena Ríos")
    with pytest.raises(DecryptionError) as raised:
        _ = Secret.objects.get(pk=secret.pk).note
    assert "Maria" not in str(raised.value)


@pytest.mark.django_db
def test_a_value_copied_into_another_field_does_not_decrypt():
    secret = Secret.objects.create(label="a", note="Maria", phone="+1 555 0100")
    set_raw_column(Secret, secret.pk, "phone", raw_column(Secret, secret.pk, "note"))
    with pytest.raises(DecryptionError, match=r"cryptoapp\.Secret\.phone"):
        _ = Secret.objects.get(pk=secret.pk).phone


@pytest.mark.django_db
def test_a_value_copied_at_the_sql_level_to_another_row_does_not_decrypt():
    maria = Secret.objects.create(label="maria", note="Maria Elena Ríos")
    other = Secret.objects.create(label="other", note="José")
    set_raw_column(Secret, other.pk, "note", raw_column(Secret, maria.pk, "note"))
    with pytest.raises(DecryptionError, match="copied from another field or row"):
        _ = Secret.objects.get(pk=other.pk).note
    assert Secret.objects.get(pk=maria.pk).note == "Maria Elena Ríos"


@pytest.mark.django_db
def test_a_list_shows_an_undecryptable_row_as_unreadable_and_logs_it(caplog):
    good = Secret.objects.create(label="good", note="Maria")
    bad = Secret.objects.create(label="bad", note="José")
    stored = raw_column(Secret, bad.pk, "note")
    set_raw_column(Secret, bad.pk, "note", with_body(stored, flip(body(stored), 20)))

    with caplog.at_level(logging.WARNING, logger="fund.security.fields"):
        shown = [readable(s, "note") for s in Secret.objects.order_by("pk")]

    assert shown == ["Maria", UNREADABLE]
    assert f"cryptoapp.Secret #{bad.pk} field note" in caplog.text
    assert stored not in caplog.text
    assert "José" not in caplog.text
    assert readable(Secret.objects.get(pk=good.pk), "phone") == ""


@pytest.mark.django_db
def test_an_explicit_context_survives_a_model_rename():
    renamed = RenamedSecret.objects.create(note="x")
    token = crypto.encrypt("kept", context="cryptoapp.OldSecret.note", row=str(renamed.row_key))
    set_raw_column(RenamedSecret, renamed.pk, "note", token)
    assert RenamedSecret.objects.get(pk=renamed.pk).note == "kept"


@pytest.mark.django_db
def test_the_field_supports_isnull_and_refuses_every_other_lookup():
    Secret.objects.create(label="a", note="Maria", phone=None)
    assert Secret.objects.filter(phone__isnull=True).count() == 1
    assert Secret.objects.exclude(phone__isnull=True).count() == 0
    for lookup in ({"note": "Maria"}, {"note__icontains": "mar"}, {"note__in": ["Maria"]}):
        with pytest.raises(FieldError, match="encrypted"):
            Secret.objects.filter(**lookup).count()
    with pytest.raises(FieldError, match="encrypted"):
        Secret.objects.filter(note__lower="maria").count()


def test_the_field_deconstructs_for_migrations():
    field = EncryptedTextField(blank=True, context="cases.Person.legal_name")
    _, path, args, kwargs = field.deconstruct()
    assert path == "fund.security.fields.EncryptedTextField"
    assert kwargs == {"blank": True, "context": "cases.Person.legal_name"}
    rebuilt = EncryptedTextField(*args, **kwargs)
    assert rebuilt.context == "cases.Person.legal_name"
    note = Secret._meta.get_field("note")
    assert note.context == "cryptoapp.Secret.note"
    _, _, _, default_kwargs = note.deconstruct()
    assert default_kwargs["context"] == "cryptoapp.Secret.note"
    _, _, _, other_row = EncryptedTextField(row_key="case_key").deconstruct()
    assert other_row["row_key"] == "case_key"


@pytest.mark.django_db
def test_a_copy_of_the_field_on_another_model_keeps_decrypting_the_same_values():
    """As migrations rebuild fields: a field rebuilt from deconstruct() binds the same way."""
    secret = Secret.objects.create(label="a", note="Maria")
    _, _, args, kwargs = Secret._meta.get_field("note").deconstruct()
    copy = EncryptedTextField(*args, **kwargs)
    sealed = copy.from_db_value(raw_column(Secret, secret.pk, "note"), None, connection)
    assert isinstance(sealed, Sealed)
    assert crypto.decrypt(sealed.ciphertext, context=copy.context, row=copy.row_of(secret)) == (
        "Maria"
    )


def test_an_encrypted_field_on_a_model_without_a_row_key_fails_the_system_check():
    field = EncryptedTextField(row_key="missing")
    field.set_attributes_from_name("note")
    field.model = Secret
    assert "fund.E102" in {error.id for error in field.check()}
    assert "fund.E102" not in {error.id for error in Secret._meta.get_field("note").check()}


@pytest.mark.django_db
def test_the_test_app_migration_matches_its_models():
    call_command("makemigrations", "cryptoapp", "--check", "--dry-run", stdout=io.StringIO())


def test_an_indexed_or_unique_encrypted_field_fails_the_system_check():
    field = EncryptedTextField(unique=True)
    field.set_attributes_from_name("note")
    field.model = Secret
    assert "fund.E101" in {error.id for error in field.check()}


# Key rotation


def rotate(*args: str) -> str:
    out = io.StringIO()
    call_command("rotate_field_keys", *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_rotation_re_encrypts_old_values_under_the_new_key():
    with override_settings(FIELD_ENCRYPTION_KEYS=[OLD]):
        secrets = [
            Secret.objects.create(label=str(n), note=f"Persona {n}", phone=f"+1 555 01{n:02}")
            for n in range(7)
        ]
        Secret.objects.create(label="no phone", note="Sola", phone=None)
    with override_settings(FIELD_ENCRYPTION_KEYS=[NEW, OLD]):
        # New writes already use the new key; rotation must leave them alone.
        fresh = Secret.objects.create(label="fresh", note="Nueva")
        fresh_stored = raw_column(Secret, fresh.pk, "note")
        output = rotate("--batch-size", "3")
        assert "cryptoapp.Secret.note: re-encrypted 8" in output
        assert "cryptoapp.Secret.phone: re-encrypted 7" in output
        assert "Re-encrypted 15 values under key id 'new'." in output
        assert "Persona" not in output
        assert "555" not in output
        for secret in secrets:
            assert raw_column(Secret, secret.pk, "note").startswith("v2:new:")
            assert raw_column(Secret, secret.pk, "phone").startswith("v2:new:")
        assert raw_column(Secret, fresh.pk, "note") == fresh_stored
        assert "Re-encrypted 0 values" in rotate()
    with override_settings(FIELD_ENCRYPTION_KEYS=[NEW]):
        assert Secret.objects.get(pk=secrets[3].pk).note == "Persona 3"
        assert Secret.objects.get(pk=secrets[3].pk).phone == "+1 555 0103"
        assert Secret.objects.get(label="no phone").phone is None


@pytest.mark.django_db
def test_rotation_check_counts_values_under_old_keys_and_exits_1():
    with override_settings(FIELD_ENCRYPTION_KEYS=[OLD]):
        Secret.objects.create(label="a", note="uno", phone="+1 555 0100")
        Secret.objects.create(label="b", note="dos", phone=None)
    with override_settings(FIELD_ENCRYPTION_KEYS=[NEW, OLD]):
        Secret.objects.create(label="c", note="tres")
        out = io.StringIO()
        with pytest.raises(SystemExit) as exited:
            call_command("rotate_field_keys", "--check", stdout=out)
        assert exited.value.code == 1
        report = out.getvalue()
        assert "cryptoapp.Secret.note: 3 values, 2 under old keys (old: 2)" in report
        assert "cryptoapp.Secret.phone: 1 values, 1 under old keys (old: 1)" in report
        assert "3 values are not under the primary key 'new'" in report
        rotate()
        assert "Every value is under the primary key 'new'." in rotate("--check")


@pytest.mark.django_db
def test_rotation_stops_on_a_value_no_key_opens_and_keeps_it():
    with override_settings(FIELD_ENCRYPTION_KEYS=[OLD]):
        secret = Secret.objects.create(label="a", note="uno")
        stored = raw_column(Secret, secret.pk, "note")
    with (
        override_settings(FIELD_ENCRYPTION_KEYS=[NEW]),
        pytest.raises(DecryptionError, match="key id 'old'"),
    ):
        rotate()
    assert raw_column(Secret, secret.pk, "note") == stored


def test_a_decryption_error_is_never_a_refusal_the_api_would_show():
    from fund.api import _statuses
    from fund.errors import FundError

    assert not issubclass(crypto.DecryptionError, FundError)
    assert not any(issubclass(crypto.DecryptionError, handled) for handled in _statuses)


@pytest.mark.django_db
def test_dumpdata_never_writes_an_encrypted_value_out():
    secret = Secret.objects.create(label="a", note="Maria Elena Ríos", phone="+1 555 0100")
    out = io.StringIO()
    call_command("dumpdata", "cryptoapp.Secret", stdout=out)
    dumped = out.getvalue()
    assert '"label": "a"' in dumped
    assert "Maria" not in dumped
    assert "555" not in dumped
    assert raw_column(Secret, secret.pk, "note") not in dumped
    assert dumped.count(UNREADABLE) == 2

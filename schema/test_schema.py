"""The shipped JSON Schema of the HR event detail accepts every HR fixture under the variant
its detail-type names, and refuses what Gatehouse refuses (run by `make test`)."""

import json
import pathlib
import unittest

import jsonschema

ROOT = pathlib.Path(__file__).resolve().parent.parent
SCHEMA = json.loads((ROOT / "schema" / "hr-event-detail.schema.json").read_text())
VARIANT = {
    "Employee Onboarded": "onboarded",
    "Employee Transferred": "transferred",
    "Employee Offboarded": "offboarded",
}


def validator(variant=None):
    schema = dict(SCHEMA)
    if variant:
        schema = {**SCHEMA, "anyOf": [{"$ref": f"#/$defs/{variant}"}]}
    # Formats are only annotations unless a checker asserts them; Gatehouse refuses a bad
    # `effectiveAt`, so the schema check must too. (date-time needs rfc3339-validator, pinned.)
    return jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )


class HrEventDetailSchema(unittest.TestCase):
    def test_every_hr_fixture_is_valid_under_its_detail_type(self):
        seen = set()
        for path in sorted((ROOT / "fixtures").glob("*.json")):
            event = json.loads(path.read_text())
            variant = VARIANT.get(event.get("detail-type"))
            if variant is None:
                continue
            seen.add(variant)
            with self.subTest(path.name):
                validator(variant).validate(event["detail"])
                validator().validate(event["detail"])
        self.assertEqual(seen, set(VARIANT.values()))

    def test_what_gatehouse_refuses_the_schema_refuses(self):
        good = {"employeeId": "E1", "email": "ada@example.com", "team": "engineering"}
        bad = [
            {**good, "email": "a" * 53 + "@example.com"},  # 65 characters
            {**good, "email": "ada,b@example.com"},
            {**good, "email": "ada..b@example.com"},
            {**good, "email": "adé@example.com"},
            {**good, "team": "Engineering"},
            {**good, "employeeId": ""},
            {**good, "nickname": "ada"},
            {"email": "ada@example.com", "team": "engineering"},
            {**good, "team": 7},
            {**good, "effectiveAt": "next tuesday"},
            {**good, "effectiveAt": "2026-11-02 09:00:00"},
            {**good, "effectiveAt": "2026-13-02T09:00:00Z"},
        ]
        self.assertTrue(validator("onboarded").is_valid(good))
        self.assertTrue(
            validator("onboarded").is_valid({**good, "effectiveAt": "2026-11-02T09:00:00+02:00"})
        )
        for detail in bad:
            with self.subTest(detail=detail):
                self.assertFalse(validator().is_valid(detail))
        self.assertFalse(validator("offboarded").is_valid(good))
        self.assertFalse(
            validator("transferred").is_valid({**good, "givenName": "Ada"})
        )


    def test_the_date_time_format_is_really_checked(self):
        # Without rfc3339-validator installed, jsonschema silently skips date-time.
        checker = jsonschema.Draft202012Validator.FORMAT_CHECKER
        self.assertFalse(checker.conforms("next tuesday", "date-time"))
        self.assertTrue(checker.conforms("2026-11-02T09:00:00Z", "date-time"))


if __name__ == "__main__":
    unittest.main()

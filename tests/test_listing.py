"""What `--tools-mode full` lists (codegen/_listing.py): descriptions in an administrator's words, for clients that
search tool definitions themselves. Names never change; descriptions gain the operation's kind, product and
console names."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from oneapi_mcp.codegen._listing import ConsoleNames, listed_description, operation_kind, product_label
from oneapi_mcp.codegen._parse import _deref

ROOT = Path(__file__).resolve().parent.parent
VOCABULARY = {
    "services": {"zpa": ["private access"], "zia": ["internet access"]},
    "intents": {"update": ["turn on", "block"], "list": ["show"]},
    "terms": {
        "app connector": ["assistant", "zpa"],  # a product's own word
        "firewall policy": ["firewall filtering rule"],  # two words on each side
        "employee": ["user"],  # one everyday word for another: a search synonym, not a console name
        "turn on": ["activate", "enable"],  # a verb
        "open port": ["firewall filtering rule", "network service"],  # a fan-out of related words
    },
}


def _describe(description: str = "Lists the things.", **kw) -> str:
    args = {"title": "Lists things", "name": "zia_list_things", "kind": "list", "product": "ZIA (Internet Access)",
            "console": ConsoleNames(), "service": "zia", "generated": False, **kw}
    return listed_description(description, **args)


def test_the_product_label_is_the_short_name_and_the_console_product_name():
    assert product_label("ZIA", "Zscaler Internet Access (ZIA) through Zscaler OneAPI") == "ZIA (Internet Access)"
    assert product_label("ZINS", "Z-Insights (analytics) through Zscaler OneAPI") == "ZINS (Z-Insights)"
    assert product_label("PETS", "pets") == "PETS"


def test_a_list_says_so_in_the_words_people_ask_with_and_names_its_product_once():
    assert _describe() == "Lists all things (shows which exist). Lists the things. Product: ZIA (Internet Access)."
    already = _describe("Lists the things ZIA (Zscaler Internet Access) knows.")
    assert already.count("Internet Access") == 1 and "Product:" not in already


@pytest.mark.parametrize(("kind", "title", "first"), [
    ("count", "Returns thing count", "Counts thing: how many there are."),
    ("create", "Creates thing", "Creates (adds) a new thing."),
    ("update", "Updates thing", "Updates (changes) thing."),
    ("delete", "Removes thing", "Deletes (removes) thing."),
    ("create", "Creates a thing", "Creates (adds) a new thing."),  # not "a new a thing"
    ("list", "Lists the things", "Lists all things (shows which exist)."),
])
def test_each_kind_of_operation_opens_with_its_plain_words(kind, title, first):
    assert _describe("Does it.", kind=kind, title=title).startswith(first + " Does it.")


def test_no_kind_line_for_a_single_read_an_action_a_title_without_its_verb_or_words_said_already():
    assert _describe("Returns the thing.", kind=None).startswith("Returns the thing.")
    assert _describe("Does it.", kind="update", title="Adds or removes URLs on the denylist").startswith("Does it.")
    said = "Counts the things (how many there are)."
    assert _describe(said, kind="count", title="Counts things").startswith(said)


def test_the_converters_method_and_path_leave_generated_descriptions_only():
    generated = "Returns thing in ZIA (Zscaler Internet Access), calling GET /zia/api/v1/things/{id}."
    assert _describe(generated, kind=None, generated=True) == "Returns thing in ZIA (Zscaler Internet Access)."
    zdx = "Gets users. ZDX (Zscaler Digital Experience): GET /zdx/v1/users."
    assert _describe(zdx, kind=None, generated=True, product="ZDX") == "Gets users. ZDX (Zscaler Digital Experience)."
    written = "Call after GET /auditlogEntryReport shows it is done, calling GET /x."
    assert _describe(written, kind=None, generated=False).startswith(written)


def test_console_names_are_a_products_own_words_and_multi_word_names_never_synonyms_verbs_or_fan_outs():
    names = ConsoleNames.from_vocabulary(VOCABULARY)
    assert {phrase for phrase, *_ in names.entries} == {"app connector", "firewall policy"}
    assert names.for_tool("zpa", "zpa_list_all_assistants", set()) == ["app connector"]
    assert names.for_tool("zia", "zia_list_assistants", set()) == []  # the hint names ZPA
    assert names.for_tool("zia", "zia_get_firewall_filtering_rule", set()) == ["firewall policy"]
    assert names.for_tool("zia", "zia_get_firewall_dns_rule", set()) == []  # the name must start with the API words
    assert names.for_tool("zia", "zia_get_firewall_filtering_rule", {"firewall", "policy"}) == []  # listed already


def test_the_longest_api_phrase_a_name_starts_with_decides_its_console_names():
    names = ConsoleNames.from_vocabulary({"services": {"zpa": []}, "terms": {
        "app segment": ["application", "zpa"], "segment group": ["application group", "zpa"]}})
    assert names.for_tool("zpa", "zpa_get_application_group", set()) == ["segment group"]
    assert names.for_tool("zpa", "zpa_get_application", set()) == ["app segment"]


def _spec_op(response: dict, **extra) -> tuple[dict, dict]:
    doc = {"components": {"schemas": {"Page": {"type": "object", "properties": {
        "list": {"type": "array", "items": {}}, "totalPages": {"type": "string"}}}}}}
    return doc, {"responses": {"200": {"content": {"application/json": {"schema": response}}}}, **extra}


@pytest.mark.parametrize(("response", "extra", "kind"), [
    ({"type": "array", "items": {}}, {}, "list"),
    ({"$ref": "#/components/schemas/Page"}, {}, "list"),  # ZPA's {totalPages, list}
    ({"type": "object"}, {"x-oneapi-pagination": {"style": "page"}}, "list"),
    ({"type": "object", "properties": {"enabled": {"type": "boolean"}}}, {}, None),  # a settings object
])
def test_a_read_is_a_list_only_when_it_answers_a_collection(response, extra, kind):
    doc, op = _spec_op(response, **extra)
    assert operation_kind(doc, op, "GET", "/things", "zia_get_things", "read", _deref) == kind


def test_counts_and_writes_are_told_by_path_name_and_method():
    doc, op = _spec_op({"type": "integer"})
    assert operation_kind(doc, op, "GET", "/things/count", "zia_get_thing_count", "read", _deref) == "count"
    assert operation_kind(doc, op, "POST", "/things", "zia_create_thing", "write", _deref) == "create"
    assert operation_kind(doc, op, "POST", "/things/bulkDelete", "zia_bulk_delete", "destructive", _deref) == "delete"
    assert operation_kind(doc, op, "PUT", "/things/{id}", "zia_update_thing", "write", _deref) == "update"
    assert operation_kind(doc, op, "DELETE", "/things/{id}", "zia_remove_thing", "destructive", _deref) == "delete"
    assert operation_kind(doc, op, "POST", "/status/activate", "zia_activate", "write", _deref) is None


def test_the_shipped_vocabulary_gives_zpa_app_connectors_their_console_name():
    names = ConsoleNames.from_vocabulary(yaml.safe_load((ROOT / "specs/overlays/vocabulary.yaml").read_text()))
    assert "app connector" in names.for_tool("zpa", "zpa_get_assistant", set())


def test_generated_listing_descriptions_name_the_product_and_the_kind(catalog):
    tools = catalog.tools
    assert tools["zia_list_rule_labels"].description.startswith("Lists all rule labels (shows which exist).")
    assert "Internet Access" in tools["zia_list_users"].description
    assert "calling GET" not in tools["zia_get_rule_label"].description
    assert tools["zia_get_rule_label"].path == "/zia/api/v1/ruleLabels/{id}"  # the definition keeps the path


def test_a_read_of_one_object_by_its_path_parameter_is_a_get():
    doc, op = _spec_op({"type": "object"})
    assert operation_kind(doc, op, "GET", "/things/{thingId}", "zia_get_thing", "read", _deref) == "get"
    assert operation_kind(doc, op, "GET", "/things/{id}/settings", "zia_get_thing_settings", "read", _deref) is None


@pytest.mark.parametrize(("path", "by"), [("/ruleLabels/{id}", "id"), ("/certs/{certId}", "id"),
                                          ("/rules/{ruleType}", "rule type")])
def test_a_generated_read_of_one_object_says_it_returns_one_and_by_what(path, by):
    generated = "Returns rule label in ZIA (Zscaler Internet Access), calling GET /zia/api/v1/x."
    assert _describe(generated, kind="get", generated=True, path=path, title="Returns rule label") == (
        f"Returns one rule label by {by} in ZIA (Zscaler Internet Access).")
    written = "Returns the rule label in ZIA (Zscaler Internet Access)."
    assert _describe(written, kind="get", path=path).startswith(written)  # hand-written words are kept
    spec_words = "Returns a tunnel by its key, which names it (cleared in the overlay)."  # not the converter's
    assert _describe(spec_words, kind="get", generated=True, path=path).startswith(spec_words)


def test_the_sdks_title_and_call_are_listed_only_where_they_add_words():
    sdk = (("App Connector Groups",), ("app_connector_groups.list_connector_groups",))
    text = _describe("Lists assistant groups.", title="Lists assistant groups", name="zpa_list_assistant_groups",
                     product="ZPA (Private Access)", service="zpa", sdk=sdk)
    assert text.endswith("Also called: App Connector Groups.")  # the call's words are all listed by then
    edit = _describe("Updates a web policy.", title="Updates web policy", name="zcc_update_web_policy", kind="update",
                     sdk=((), ("web_policy.web_policy_edit",)))
    assert edit.endswith("SDK: web_policy.web_policy_edit.")
    # a title and a call whose words the listing has already add nothing
    same = _describe("Lists app connector groups.", title="Lists app connector groups",
                     name="zpa_list_connector_groups", product="ZPA (Private Access)", service="zpa", sdk=sdk)
    assert "Also called" not in same and "SDK:" not in same

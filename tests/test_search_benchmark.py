"""search_operations finds what an administrator means (issue 15), measured on tests/search_benchmark.yaml.

Every request of the benchmark is also an example of the operations that answer it (oneapi_mcp/_search_examples.py),
so each is searched with its own round's requests left out: an index that has not seen it. The floors sit just under
the level reached that way, over the whole set and on each part (tuned, held out, each blind round); `make bench`
prints every part for both searches, each round's first measurement and a leave-one-round-out figure. The tests of
the ranking's rules search without examples: each states a rule, which an example of the same words would hide.
Timing is measured in bench/, never asserted here.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from mcp import Client

from oneapi_mcp._catalog import load_catalog
from oneapi_mcp._search import SearchIndex, operation_kind
from oneapi_mcp._search_eval import dumps, evaluate, full_listing_index, held_out, load_benchmark, parts, read_examples
from oneapi_mcp._search_examples import EXAMPLES_FILE, examples_by_tool
from oneapi_mcp._server import Runtime, build_server
from oneapi_mcp._settings import ServerSettings
from oneapi_mcp._vocabulary import stem, tokens

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.anyio
BENCHMARK = ROOT / "tests" / "search_benchmark.yaml"
# Session 11: every request an example of its operations, each round measured with its own left out. Rounds 18 and 19
# (198 requests each, written blind at its start) on main before: 0.813 / 0.960 and 0.692 / 0.899; with every earlier
# request as an example: 0.854 / 0.990 and 0.783 / 0.975 (their first measurements). The whole set, each round's
# requests left out: 0.842 / 0.980 on 3,805 (without examples 0.823 / 0.961; rounds 10 and 11, which the rules were
# tuned on most, fall from 0.829 / 0.963 and 0.795 / 0.971 to 0.765 / 0.965 and 0.772 / 0.974, rounds 16-19 rise from
# 0.731 / 0.931 to 0.803 / 0.976). Rounds 20 and 21 (200 each, written blind once rounds 18 and 19 were examples)
# measured once with the examples: 0.825 / 0.960 and 0.840 / 0.980 (main before the session: 0.750 / 0.920 and
# 0.755 / 0.930). With them, 4,205 requests, each round's left out: 0.842 / 0.979. Rounds 22 and 23 (200 each, written
# blind later) measured once with rounds 0-21 as examples: 0.860 / 0.985 and 0.825 / 0.980 (0.810 / 0.960 and
# 0.800 / 0.940 before the session); round 24, one request for each of the 180 operations no request had asked for,
# 0.483 / 0.844 (0.567 / 0.894 before): an operation with no example lost to those with some, so one stands in its
# title and first sentence (_search_examples.STAND_IN): round 24 left out 0.550 / 0.878. All 4,785, each round's
# left out: 0.834 / 0.977 (the rules alone 0.806 / 0.954). The floors are of that measurement
HIT1_FLOOR, HIT5_FLOOR = 0.83, 0.97
# Before session 11 (no examples): reached 0.831 / 0.964 with rounds 15-17 (3,409), 0.817 / 0.963 with round 14
# (2,610 requests) after session 9
# (0.776 / 0.942 on the 2,360 before it, 0.824 / 0.964 after); 0.775 / 0.942 with round 12; 0.771 / 0.939 after
# session 8 on the 2,062 before it (0.760 / 0.937 before session 8; 2,062 requests with round 11; 0.780 / 0.945 on the
# 1,750 before it, 0.761 / 0.931 when round 10 was added; on the 1,376 before that 0.762 / 0.932 before session 6,
# 0.781 / 0.943 after it)
# each part's floor, a request or two under what it reached (round 3, n=43: one miss is 2.3 points). Each blind
# round's first measurement, before any change made for it, is in tests/search_benchmark.yaml: round 6 was first
# measured at 0.514 / 0.806, round 7 (n=36) at 0.583 / 0.778, round 8 (n=237, held out: written by an engineer who
# never ran the search, measured once after all of that session's changes) at 0.629 / 0.878 (main before those
# changes, on its 239: 0.536 / 0.816). With the general fixes of the session after round 8 (classes of its misses,
# `bench/search_bench.py --misses 8`) they reach 0.750 / 0.944, 0.694 / 0.889 and 0.654 / 0.882.
# Round 9 (n=224, a second held-out set written while those fixes were made) was first measured after them at
# 0.629 / 0.844 (0.621 / 0.835 before them, 0.594 / 0.790 on main before the session). Session 6 fixed classes of
# rounds 8 and 9's misses (real words spell-corrected, hyphen-joined names, changes asked as wishes, a named
# object holding the head noun, terse requests for a new object, change verbs, product names): 0.675 / 0.886 and
# 0.710 / 0.897, tuned on; with the names Zscaler's SDK gives each operation (oneapi_mcp/_search_sdk.py, fitted in
# bench/sdk_field_bench.py) 0.679 / 0.886 and 0.719 / 0.897. Round 10 (n=374, a third held-out set written while
# those changes were made) was first measured after them at 0.682 / 0.893 (0.652 / 0.861 on main before them).
# Session 7 fixed classes of rounds 8-10's misses (create/update tie, ZPA policy types, a name's head before its
# preposition, 'before ...' clauses, 'should' wishes, 'make the X', 'X needs a new ...', browser isolation, verbs,
# no_one_named re-fitted): round 10 0.733 / 0.922, round 9 0.732 / 0.924, tuned on.
# Round 7 (n=36) went 0.694 -> 0.639: two of its requests had been won by the names' alphabet in a create/update tie
# that the kind asked now breaks (both misread requests: "block uploads ... to github" asks for a new rule)
# Round 11 (n=312, a fourth held-out set written while session 7's changes were made) was first measured after them
# at 0.651 / 0.891 (0.609 / 0.869 on main before them)
# Session 8 fixed classes of rounds 10-11's misses (the request's head noun past adverbs, numbered names, ids and
# measures; terse requests for a new object told by a relative clause, a participle, 'kind of rule: ...' or
# 'X as a <kind>'; 'has a new Y, update it'; three-letter acronyms no plurals): round 11 0.705 / 0.907, round 10
# 0.741 / 0.925, round 9 0.737 / 0.924, round 8 0.709 / 0.899, tuned on
# Round 12 (n=298, a fifth held-out set written while session 8's changes were made) was first measured after them at
# 0.809 / 0.960 (0.805 / 0.960 on main before them). Its writer chose answers from each operation's first description
# line, and its wording is nearer the listing's: the plain full-listing search scores 0.638 / 0.893 on it, 0.365 / 0.721
# on round 11, so it is an easier round, not proof that the target is met on every kind of request.
# Session 9 fixed classes of misses (an object's purpose after 'for' is not the object; a policy asked 'with a <kind of
# rule>' creates it; verbs that are nouns too, only where they open a clause; a time window prefers operations that
# take one; 'details' is an object word; list_* reads by a type are lists; an edit of a value of an object changes the
# object; activation and bulk phrases) and described ~160 more operations in console words: round 11 0.772 / 0.962,
# round 10 0.791 / 0.955, round 12 0.856 / 0.973, tuned on. Round 13 (n=250, a sixth held-out set written while those
# changes were made, from each operation's method, path and short title only) was first measured after them at
# 0.760 / 0.964 (0.740 / 0.960 on main before them); 0.788 / 0.964 after fixes for classes of its misses, tuned on.
# Round 14 (n=199, a seventh held-out set written the same way meanwhile) was first measured after those fixes at
# 0.754 / 0.940 (0.739 / 0.925 on main before the session); 0.764 / 0.945 with a vocabulary fix since, tuned on.
# Session 10: rounds 15, 16 and 17 (200 requests each, written the same way at its start); round 15 measured on main
# before the changes (0.805 / 0.965) and tuned on (host names, activation after saved edits, 'add X to a product's
# object', quoted names, chat words ...) to 0.880 / 0.965, with ~800 more operations described in console words.
# Rounds 16 and 17 were measured once after all that: 0.685 / 0.945 and 0.730 / 0.915 (main before: 0.665 / 0.940
# and 0.740 / 0.935): on requests nobody had seen the session's changes moved hit@1 by +2 and -1 points.
# Session 11's floors, each round searched with its own requests left out of the examples (see above)
PART_FLOORS = {"tuned": (0.88, 0.99), "held out": (0.875, 0.95), "blind round 1": (0.91, 0.975),
               "blind round 2": (0.92, 0.99), "blind round 3": (0.90, 0.975), "blind round 4": (0.85, 0.985),
               "blind round 5": (0.845, 0.985), "blind round 6": (0.84, 0.975), "blind round 7": (0.66, 0.86),
               "blind round 8": (0.79, 0.945), "blind round 9": (0.81, 0.955),
               "blind round 10": (0.76, 0.96), "blind round 11": (0.765, 0.965),
               "blind round 12": (0.885, 0.98), "blind round 13": (0.895, 0.98), "blind round 14": (0.875, 0.975),
               "blind round 15": (0.915, 0.99), "blind round 16": (0.76, 0.98), "blind round 17": (0.79, 0.94),
               "blind round 18": (0.835, 0.98), "blind round 19": (0.765, 0.965),
               "blind round 20": (0.82, 0.95), "blind round 21": (0.83, 0.975), "blind round 22": (0.855, 0.975),
               "blind round 23": (0.815, 0.97), "blind round 24": (0.54, 0.865)}
# a plain BM25 over the names and descriptions alone, no vocabulary; reached 0.487 / 0.780 (2,062 requests, after
# session 8's zid descriptions; 0.485 / 0.778 before them; 0.506 /
# 0.789 on the 1,750 before round 11, 0.520 / 0.793 on the 1,376 before round 10)
FULL_LISTING_HIT1_FLOOR, FULL_LISTING_HIT5_FLOOR = 0.55, 0.845  # 0.561 / 0.855 with rounds 15-17 after session 10's
# ~800 descriptions; 0.538 / 0.815 with round 13 after session 9's
# descriptions (0.506 / 0.794 with round 12 before them)


@pytest.fixture(scope="module")
def catalog():
    return load_catalog()


@pytest.fixture(scope="module")
def index(catalog):
    """The ranking's rules alone: no request is an example (the rule tests would otherwise test the examples)."""
    return SearchIndex.for_catalog(catalog, examples=False)


@pytest.fixture(scope="module")
def ranked(catalog):
    """search_operations' answer to each benchmark request, from an index whose examples leave its round out, asked
    once: the whole set and its parts read the same answers."""
    answers = held_out(lambda n: SearchIndex.for_catalog(catalog, leave_out=n), load_benchmark(BENCHMARK, catalog))
    return answers.__getitem__


def _names(index, query, **kw):
    return [t.name for _, t in index.search(query, **kw)]


def _report(result) -> str:
    return "\n".join(f"  rank {m['rank']}: {m['query']!r} -> {m['top']} (want {m['want'][:2]})"
                     for m in result["misses"] if m["rank"] != 1)


def test_the_benchmark_has_over_200_requests_and_every_right_answer_is_an_operation(catalog):
    requests = load_benchmark(BENCHMARK, catalog)  # raises naming a "METHOD path" that matches nothing
    assert len(requests) >= 200
    written_first = [r for r in requests if not r.blind]
    assert 0.2 <= sum(r.holdout for r in written_first) / len(written_first) <= 0.3
    assert len({r.query for r in requests}) == len(requests)


def test_search_finds_the_right_operation_first_and_in_the_top_five_above_the_floors(catalog, ranked):
    result = evaluate(ranked, load_benchmark(BENCHMARK, catalog))
    assert result["hit@5"] >= HIT5_FLOOR and result["hit@1"] >= HIT1_FLOOR, (
        f"hit@1 {result['hit@1']:.3f} hit@5 {result['hit@5']:.3f} mrr {result['mrr']:.3f}\n" + _report(result))


def test_every_part_of_the_benchmark_is_above_the_floors_not_only_the_whole(catalog, ranked):
    parts_ = parts(load_benchmark(BENCHMARK, catalog))
    assert set(parts_) == set(PART_FLOORS)
    assert len(parts_["blind round 2"]) >= 100 and len(parts_["blind round 5"]) >= 120  # written before their changes
    assert len(parts_["blind round 6"]) >= 120 and len(parts_["blind round 8"]) >= 200
    assert len(parts_["blind round 9"]) >= 200
    assert len(parts_["blind round 10"]) >= 300 and len(parts_["blind round 11"]) >= 300
    assert len(parts_["blind round 12"]) >= 290
    for label, requests in parts_.items():
        result = evaluate(ranked, requests)
        hit1_floor, hit5_floor = PART_FLOORS[label]
        assert result["hit@5"] >= hit5_floor and result["hit@1"] >= hit1_floor, (
            f"{label}: hit@1 {result['hit@1']:.3f} hit@5 {result['hit@5']:.3f}\n" + _report(result))


def test_a_plain_search_over_the_full_listing_text_finds_most_operations_too(catalog):
    plain = full_listing_index(catalog.tools.values())
    result = evaluate(lambda q: _names(plain, q), load_benchmark(BENCHMARK, catalog))
    assert result["hit@5"] >= FULL_LISTING_HIT5_FLOOR and result["hit@1"] >= FULL_LISTING_HIT1_FLOOR, (
        f"hit@1 {result['hit@1']:.3f} hit@5 {result['hit@5']:.3f}\n" + _report(result))


@pytest.mark.parametrize(("query", "want"), [
    ("how many firewall rules do we have", "zia_get_firewall_filtering_rule_count"),
    ("firewall rules", "zia_list_firewall_filtering_rules"),
    ("delete firewall rule", "zia_remove_firewall_filtering_rule"),
    ("create firewall rule", "zia_create_firewall_filtering_rule"),
])
def test_what_is_asked_decides_between_count_list_delete_and_create(index, query, want):
    assert _names(index, query)[0] == want


def test_a_console_name_finds_the_api_name_it_stands_for(index):
    # ZPA's console says App Connector; the API (recorded traffic: reference/recorded/zpa) says assistant
    assert _names(index, "list the app connectors in private access")[0] == "zpa_list_all_assistants"
    assert _names(index, "push my pending internet access changes live")[0] == "zia_activate"


def test_a_misspelt_word_finds_what_the_right_spelling_finds(index):
    assert _names(index, "list firewal rules")[:3] == _names(index, "list firewall rules")[:3]
    assert index.read("sandox rules").corrected == {"sandox": "sandbox"}
    assert index.read("what was sent").corrected == {}  # short real words are left alone


def test_a_misspelt_word_is_corrected_before_it_is_split_and_a_word_beginning_is_an_abbreviation_not_a_typo(index):
    assert index.read("bandwith rules").corrected == {"bandwith": "bandwidth"}  # not "band with"
    assert "regen" not in index.read("regen the cert on a virtual service edge node").corrected  # not "regex"
    assert _names(index, "regen the cert on a virtual service edge node")[0] == (
        "zia_regenerate_virtual_zen_node_certificate")
    assert index.read("sandboxrules").corrected == {"sandboxrules": "sandbox rules"}  # a compound is still split


def test_a_real_word_is_not_corrected_to_an_api_word_one_consonant_or_first_letter_away(index):
    # class 'spell-checker corrects real words' (rounds 8-9): retail -> detail, design -> destin, logic -> login
    for text in ("which locations are in the Retail location group", "design team needs .psd allowed",
                 "stream app connector metrics to sumo logic", "remove the stale vm from cloud connector group 5"):
        assert index.read(text).corrected == {}, text
    # typos still are: a letter left out, added or swapped, a vowel for another in a long word
    for typed, meant in (("conector", "connector"), ("segmnet", "segment"), ("dictionnaries", "dictionary"),
                         ("catagories", "category"), ("connecter", "connector")):
        assert index.read(f"{typed} rules").corrected == {typed: stem(meant)}, typed


def test_a_british_spelling_meets_the_american_one_and_a_participle_is_no_website_name(index):
    assert stem("organisations") == stem("organizations") and stem("categorised") == stem("categorized")
    assert _names(index, "which organisations do we have in easm")[0] == "easm_list_organizations"
    # an unknown word next to "block" is taken for a website or app, but not a verb's -ing form
    assert "zia_create_web_application_rule" not in _names(
        index, "appprotection custom rule to block requests carrying an X-Debug header")[:3]


def test_hyphen_joined_words_that_name_one_object_are_neither_a_command_nor_corrected(index):
    # class 'hyphenated names' (rounds 8-9): "Block" in PCI-Block had made the request an update
    reading = index.read("pull up the web dlp policy called PCI-Block")
    assert reading.intent != "update" and reading.names_one and "block" not in reading.head
    assert _names(index, "pull up the web dlp policy called PCI-Block")[0] == "zia_list_web_dlp_rules"
    assert index.read("members of the sales-emea group in zdx").corrected == {}
    # compounds of API words, console terms, numbers and domains are read as before
    for text in ("block url-filtering for guests", "who are the read-only admins in zia",
                 "split traffic 70/30 between two servers", "block the C2 domain evil-updates.example"):
        assert not index.read(text).names_one or any(c.isdigit() for c in text), text


def test_a_change_asked_for_as_a_wish_is_a_write_but_a_question_still_reads(index):
    # class 'write asked, read ranked' (rounds 8-9): no verb, the change is stated as what should be
    assert index.read("business hours time interval should end at 7pm now").intent == "update"
    assert _names(index, "business hours time interval should end at 7pm now")[0] == "zia_update_time_interval"
    assert index.read("old-vendors group in zidentity can go").intent == "delete"
    assert _names(index, "old-vendors group in zidentity can go")[0] == "zid_remove_group"
    assert index.read("which firewall rules should be reviewed").intent == "list"
    # any verb after "should" (round 10: 'should cover', 'should use', 'should match'); "must" often describes
    assert index.read("the guest wifi location should enforce authentication").intent == "update"
    assert index.read("the terms contractors must accept on the portal").intent != "update"


def test_what_is_inside_a_named_object_is_answered_by_that_object_unless_an_operation_reads_that_part(index):
    # class 'sibling object' (rounds 8-9): the head noun (servers) is inside a named object (the SAP-Prod server group)
    assert index.read("servers behind the SAP-Prod server group").container == {"group"}
    assert _names(index, "servers behind the SAP-Prod server group")[0] in (
        "zpa_get_server_group", "zpa_list_all_server_groups")
    assert _names(index, "which locations are in the Retail location group")[0] in (
        "zia_list_groups", "zia_get_group_by_id", "zia_get_group_summary")
    assert index.read("servers in the server group").container == frozenset()  # no name: the head noun alone
    # where an operation reads that part of the object, it still answers
    assert _names(index, "members of the sales-emea group in zdx")[0] == "zdx_list_group_users"


def test_a_bare_singular_noun_phrase_described_with_or_called_asks_for_a_new_one_after_a_product_name_too(index):
    # class 'write asked, read ranked' (round 9): "dlp dictionary with ...", "segment group called X", "zpa saml ..."
    for text in ("dlp dictionary with our secret project codenames", "segment group called OT-Systems",
                 "zpa saml attribute for the costCenter claim"):
        assert index.read(text).intent == "create", text
    # a plural (also a misspelt one) or an adjective before "to" still reads
    for text in ("zpa app segmnets with double encryption on", "rules with action block",
                 "zpa app segments visible to cloud connector"):
        assert index.read(text).intent != "create", text


def test_pointing_or_switching_an_object_to_something_else_changes_it(index):
    # class 'write asked, read ranked' (round 8): verbs of change the vocabulary lacked
    assert _names(index, "point the gre tunnel at the amsterdam secondary vip instead")[0] == "zia_update_gre_tunnel"
    assert index.read("switch internet access authentication over to SAML").intent == "update"
    assert index.read("ransomware kill switch state at the plant").intent != "update"  # a console noun
    # round 10: verbs of removal and of resizing the vocabulary lacked
    assert index.read("tear down the old ztw location").intent == "delete"
    assert index.read("widen the guest ip pool").intent == "update"


def test_adding_something_to_an_existing_object_is_an_update_of_that_object_but_adding_to_a_product_creates(index):
    assert index.read("add a url to a custom category").intent == "update"
    assert index.read("add a user to internet access").intent == "create"


def test_adding_something_for_a_purpose_creates_and_the_update_of_an_object_shares_its_creates_match(index):
    assert index.read("add a firewall rule to block telnet").intent == "create"  # "to block": a purpose
    assert "zpa_update_rule_to_policy_set" in _names(
        index, "add the vendors scim group to the existing payroll access rule")[:2]


def test_an_update_asked_for_ranks_above_the_create_of_the_same_resource_not_level_with_it(index):
    # class 'wrong kind, same resource' (rounds 8-10): the update was credited 0.8 of its create's better match while
    # the create kept 0.8 of it for an update request, a tie the names' alphabet broke for the create
    top = index.search("edit the expression of the pci dlp engine", limit=2)
    assert [t.name for _, t in top] == ["zia_update_dlp_engine", "zia_create_dlp_engine"] and top[0][0] > top[1][0]


def test_zpa_policy_types_named_as_the_console_names_them_are_its_policy_set_rules(index):
    # class 'sibling object, same product' (rounds 8-10): ZPA's Policies menu has a policy set per type (policyType)
    for query in ("list our timeout rules", "show the client forwarding rules"):
        assert index.read(query).hinted == ["zpa"]
        assert _names(index, query)[0] == "zpa_get_policy_rules_by_page", query


def test_browser_isolation_is_zias_name_and_cloud_browser_isolation_or_cbi_also_zpas(index):
    # class 'wrong product' (round 10): ZIA's isolation profiles and banners (isolationTenantMgmt) had lost to ZPA's
    # cbi ones, the rarer API word
    assert _names(index, "rename the browser isolation banner")[0] == "zia_update_isolation_banner"
    assert "cbi" in index.read("cloud browser isolation profiles").terms


def test_a_tool_name_is_about_the_noun_before_its_preposition_not_the_qualifier_after_it(index):
    # class 'sibling object, same product': zpa_get_policy_rules_by_page had the head noun 'page', so requests about
    # rules gave it no head bonus
    from oneapi_mcp._search import name_head

    assert [name_head(n) for n in ("zpa_get_policy_rules_by_page", "zpa_add_rule_to_policy_set",
                                   "zpa_get_auth_domains_for_customer", "zdx_list_group_users")] == [
        "rule", "rule", "domain", "user"]
    assert _names(index, "zpa policy rules")[0] == "zpa_get_policy_rules_by_page"  # was the reorder


def test_only_adding_something_to_an_object_updates_it_other_verbs_of_creation_with_to_still_create(index):
    assert index.read("set up an nss feed to send web logs to splunk").intent == "create"
    assert index.read("add the new regex to the existing dlp dictionary").intent == "update"
    assert index.read("make the guest location require authentication").intent == "update"  # "make the X ...": X
    assert index.read("make a location for the guest wifi").intent == "create"
    assert index.read("the guest wifi location needs a new gateway address").intent == "update"  # a new value of it
    assert index.read("need a new location for the guest wifi").intent == "create"


def test_a_terse_singular_noun_phrase_made_for_somebody_or_to_do_something_asks_for_a_new_one(index):
    assert _names(index, "bandwidth class for the video team")[0] == "zia_create_bandwidth_class"
    assert index.read("ip pool to isolate guest laptops").intent == "create"
    assert index.read("bandwidth classes for the video team").intent is None  # a plural lists
    assert index.read("dlp dictionary for catching project codenames").intent == "create"  # for + a purpose
    assert index.read("network services defined for the firewall").intent is None  # a participle reads
    assert index.read("which bandwidth class for the video team").intent == "list"  # a question reads


def test_a_clause_opening_with_before_and_a_later_is_it_question_ask_for_a_read(index):
    # class 'read asked, write ranked' (round 10): the verb of "before I delete it, ..." is not the command, and
    # "..., is it enabled" asks whether
    assert index.read("before I remove the old group, list the users in it").intent == "list"
    assert index.read("the guest wifi location - is it set to enforce authentication").intent == "list"
    assert index.read("remove the old group before the audit").intent == "delete"  # "before" inside the command


def test_a_question_reads_even_when_it_contains_a_write_verb(index):
    assert index.read("is remote assistance enabled for support").intent == "list"
    assert index.read("why was the service disabled on devices").intent == "list"


def test_a_console_menu_path_is_context_and_its_last_step_names_the_page(index):
    reading = index.read("Administration > Authentication Settings")
    assert reading.terms[stem("authentication")] == 1.0 and reading.terms[stem("administration")] < 0.5
    assert index.read("Resources > Application Segments > Add Application Segment").intent == "create"


def test_a_question_after_a_label_or_late_in_a_long_request_reads(index):
    assert index.read("threat hunt: which firewall rules allow outbound RDP").intent == "list"
    assert index.read("my laptop keeps failing to connect, is there a way to see why").intent == "list"
    assert index.read("IOC: block the C2 domain").intent == "update"


def test_a_write_verb_must_be_a_command_not_a_participle_or_a_noun(index):
    assert index.read("newly registered domains being blocked").intent is None
    assert index.read("the last change somebody made to internet access").intent is None
    assert index.read("register a server in zpa").intent == "create"
    assert index.read("I need a new dlp engine").intent == "create"


def test_a_possessive_is_its_owner_alone_not_a_word_s(index):
    assert tokens("reset bob's password, the tenant\u2019s changes") == [
        "reset", "bob", "password", "the", "tenant", "changes"]
    assert "s" not in index.read("show alice's zidentity profile").terms


def test_acronyms_with_a_plural_or_a_version_are_one_word():
    from oneapi_mcp._vocabulary import tokens

    assert tokens("Lists static IPs and blacklist URLs") == ["lists", "static", "ips", "and", "blacklist", "urls"]
    assert tokens("GetIPv6Configuration") == ["get", "ipv6", "configuration"]


def test_every_service_is_found_by_its_own_names_from_the_services_table(index):
    # no vocabulary entry names Business Insights or Workflow Automation: generated/services.py does
    assert index.read("scheduled business insights reports").services == ["zbi"]
    assert index.read("open incidents in Zscaler Workflow Automation").services == ["zwa"]
    assert index.read("the identity of the caller").services == []  # one everyday word is not a product


def test_a_request_naming_no_product_prefers_the_everyday_consoles_over_their_copies(index):
    # ZIA and ZTW both have locations; "add a location" names neither and means ZIA
    found = _names(index, "add a location")
    assert found.index("zia_create_location") < found.index("ztw_create_location")
    assert _names(index, "add a location in cloud connector")[0] == "ztw_create_location"


def test_in_a_named_product_a_console_word_means_that_products_word(index):
    # vocabulary: sites -> url, location (ZIA words); ZTB calls them sites
    assert _names(index, "ztb sites", limit=2)[0] in ("ztb_list_sites", "ztb_list_site_names")


def test_a_get_needs_one_object_and_a_request_naming_none_lists(index):
    assert _names(index, "external attack surface findings")[0] == "easm_list_findings"
    assert index.read("details of finding 42").names_one and not index.read("lookalike domains").names_one


def test_a_verb_in_a_relative_clause_or_a_console_noun_is_not_a_command(index):
    assert index.read("file type control rules that stop exe downloads").intent is None
    assert index.read("rule labels we use to tag policies").intent is None
    assert index.read("ransomware kill switch state").intent is None
    assert index.read("open port 443 to our partner network").intent in ("create", "update")


def test_a_separated_particle_and_a_compound_word_are_read_whole(index):
    assert index.read("switch a zdx probe back on").intent == "update"
    reading = index.read("kick off a packettrace")
    assert reading.intent == "create" and reading.corrected == {"packettrace": "packet trace"}
    assert _names(index, "list firewallrules")[0] == "zia_list_firewall_filtering_rules"


def test_delete_finds_remove_operations_as_well(index):
    assert _names(index, "delete the trusted network in client connector")[0] == "zcc_remove_trusted_network"
    assert _names(index, "delete a zdx collection")[0] == "zdx_remove_collection"


def test_a_verb_that_names_operations_is_searched_and_a_plain_one_only_sets_the_intent(index):
    assert index.read("deactivate a monitor").terms[stem("deactivate")] == 1.0
    assert index.read("delete a monitor").terms[stem("delete")] < 1.0


def test_a_console_word_of_one_product_prefers_that_product_without_naming_it(index):
    reading = index.read("turn off an app segment")
    assert reading.hinted == ["zpa"] and reading.services == []
    assert _names(index, "turn off an app segment", limit=3)[0].startswith("zpa_")


def test_a_quota_answers_how_many_more(catalog):
    assert operation_kind(catalog.tools["zia_get_url_category_quota"]) == "count"
    assert operation_kind(catalog.tools["zia_list_url_categories"]) == "list"


def test_a_destructive_put_named_by_another_verb_is_an_action_not_a_delete_and_deactivate_finds_it(catalog, index):
    assert operation_kind(catalog.tools["zdx_deactivate_monitor"]) == "action"
    assert operation_kind(catalog.tools["ztb_revoke_api_key"]) == "delete"
    assert _names(index, "deactivate an emergency access user")[0] == "zpa_deactivate_emergency_access_user"


def test_a_product_name_ranks_that_products_operations_first(index):
    assert all(n.startswith("ztw_") for n in _names(index, "cloud connector admin users", limit=3))
    assert all(n.startswith("zcc_") for n in _names(index, "client connector admin users", limit=3))


def test_the_head_noun_decides_between_operations_named_by_the_same_words(index):
    # zdx_list_group_users and zdx_list_user_groups share their words; English puts the head last
    assert index.read("zdx users in the HR group").head == {"user"}
    assert _names(index, "zdx users in the HR group")[0] == "zdx_list_group_users"
    assert _names(index, "zdx groups of a user")[0] == "zdx_list_user_groups"


def test_the_head_noun_skips_adverbs_and_numbered_names_and_looks_through_ids_and_measures(index):
    # class 'sibling object, same product' (round 11): "entirely" and "ops2" had been taken for the head noun,
    # "department ids" was about ids, "tally of role definitions" about a tally
    assert index.read("switch off the Legacy segment group entirely").head == {"group"}
    assert _names(index, "switch off the Legacy segment group entirely")[0] == "zpa_update_application_group"
    assert "user" in index.read("move admin ops2 to the SecOps role in private access").head
    assert index.read("department ids and names from the zdx configuration").head == {"department"}
    assert index.read("tally of role definitions for zpa administrators").head == {"role"}
    assert _names(index, "tally of role definitions for zpa administrators")[0] == "zpa_list_roles"
    assert index.read("c2c incident receiver").head == {"receiver"}  # a product word with a digit is no name
    assert index.read("anomaly policy for roaming sims").head == {"policy"}  # -ly but no adverb


def test_an_operation_on_what_the_object_is_for_is_not_the_object(index):
    # class 'sibling object, same product' (session 9): "provisioning keys for app connectors" ranked the connectors
    # (their descriptions say how they enrol) above the keys; "for" puts the connectors after the head noun
    assert index.read("show the provisioning keys for app connectors").qualifier >= {"assistant"}
    assert _names(index, "show the provisioning keys for app connectors")[0] == "zpa_get_all_provisioning_keys"
    assert _names(index, "make a network service group for the erp ports")[0] == "zia_create_network_service_group"
    # "of" names an attribute of the object as often ("the email of a break glass account"): not a qualifier
    assert not index.read("change the email of a break glass account").qualifier
    assert _names(index, "change the email of a break glass account")[0] == "zpa_update_emergency_access_user"


def test_a_policy_asked_for_with_a_kind_of_rule_that_is_not_there_yet_creates_it(index):
    # class 'wrong kind, same resource' (session 9): "block" reads as an update, but "with a ... rule" or "needs a new
    # ... rule" names a rule that does not exist yet; "add a rule to <do something>" is a purpose, not a container
    for text, want in (("block DNS over HTTPS with a dns control rule", "zia_create_firewall_dns_rule"),
                       ("decrypt everything for the IT-Test group, needs a new ssl inspection rule",
                        "zia_create_ssl_inspection_rule"),
                       ("add a sandbox rule to quarantine unknown executables", "zia_create_sandbox_rule")):
        assert index.read(text).intent == "create", text
        assert _names(index, text)[0] == want, text
    assert index.read("the Leeds location needs a new description").intent == "update"
    assert index.read("add soc@acme.com to alert subscription 7 for critical severity").intent == "update"


def test_adding_members_to_a_group_is_the_operation_named_add_for_those_members(index):
    # zid_add_group_user is a POST (a create) that changes the group; "add ... to" reads as an update, which ranked
    # zid_replace_group_users (a PUT) first. Not when the added object is another one: zpa_add_rule_to_policy_set
    assert _names(index, "add three users to the finance group in zid")[0] in ("zid_add_group_user",
                                                                               "zid_add_group_users")
    assert _names(index, "add the contractors scim group to the existing ERP access rule")[0] in (
        "zpa_update_rule_to_policy_set", "zpa_v2_update_rule_to_policy_set")


def test_a_time_window_prefers_operations_that_take_one(index):
    # class 'wrong product' (session 9): "last week", "yesterday" ask for data over time (Z-Insights' startTime/endTime,
    # ZDX's from/to), which the configuration of the same words (firewall rules, threat settings) cannot answer
    assert index.read("firewall traffic broken down by allow/block action for last week").window
    assert not index.read("add the last 10 rules to the policy").window
    names = _names(index, "firewall traffic broken down by allow/block action for last week", limit=5)
    assert "zins_firewall_by_action" in names
    assert _names(index, "alerts digital experience raised for the Chicago location last month")[0] == (
        "zdx_list_historical_alerts")


def test_details_in_a_tool_name_is_an_object_word_and_a_list_named_so_lists(catalog, index):
    # "details" in zia_list_gre_tunnel_details and zwa_get_incident_details had counted as no word of the name, so
    # "show the gre tunnels" ranked the tunnel details and "dlp incidents for user jdoe" one incident's details
    assert _names(index, "show the gre tunnels")[0] == "zia_list_gre_tunnels"
    assert _names(index, "dlp incidents for user jdoe this week")[0] == "zwa_dlp_incident_search"
    # /webApplicationRules/{rule_type} lists a type's rules; /accountGroups and /usage/countries hold no "count"
    assert operation_kind(catalog.tools["zia_list_web_application_rules_by_type"]) == "list"
    assert operation_kind(catalog.tools["ztw_list_account_groups"]) == "list"
    assert operation_kind(catalog.tools["zcell_list_sim_analytics_usage_countries"]) == "list"
    assert operation_kind(catalog.tools["zia_get_url_category_quota"]) == "count"


def test_a_verb_that_is_a_noun_too_commands_only_where_it_opens_the_request_or_a_clause(index):
    # class 'write asked, read ranked' (session 9): "group", "stream", "capture", "cut", "scope" had set no intent
    for text, want in (("group the shared domain admin credentials into a pool", "zpa_create_credential_pool"),
                       ("stream zpa user activity logs to our siem", "zpa_create_siem"),
                       ("capture traffic from the POS terminal subnet for forensics",
                        "zia_create_traffic_capture_rule"),
                       ("IR: infected host 10.4.2.17 is beaconing, cut its outbound at the cloud firewall",
                        "zia_create_firewall_filtering_rule"),
                       ("scope the zia admin anna.b to the APAC location group only", "zia_update_admin_user")):
        assert index.read(text).intent in ("create", "update"), text
        assert _names(index, text)[0] == want, text
    # a noun: "email dlp rules", "pull up" reads, "group" without "into", a verb elsewhere
    for text in ("email dlp rules", "pull up the web dlp policy called PCI-Block", "group membership of jdoe in zia",
                 "which rules capture traffic from the lab"):
        assert index.read(text).intent in (None, "list", "get"), text


def test_all_or_every_prefers_the_operation_on_every_object_at_once(index):
    assert _names(index, "acknowledge all alarms in zero trust branch")[0] == "ztb_bulk_acknowledge_all"
    assert _names(index, "acknowledge alarms 55 and 56 in zero trust branch")[0] == "ztb_bulk_acknowledge"


def test_an_edit_of_a_value_of_an_object_changes_the_object(index):
    # "change the description of an app connector group": the description is the group's, the group is changed
    assert index.read("change the description of an app connector group").head >= {"group"}
    for text, want in (("change the description of an app connector group", "zpa_update_assistant_group"),
                       ("change the app connector group of a connector", "zpa_update_assistant"),
                       ("change the role of admin pat.k to Helpdesk", "zia_update_admin_user")):
        assert _names(index, text)[0] == want, text
    assert "description" in index.read("the description of an app connector group").head  # a read: as typed


def test_a_question_after_a_preposition_reads_and_a_verb_after_new_names_a_kind(index):
    text = "in what order does the cloud firewall evaluate our rules? need to see where the new allow rule landed"
    assert index.read(text).intent == "list"
    assert _names(index, text)[0] == "zia_get_firewall_filtering_rule_order"


def test_a_clause_of_when_inside_a_command_asks_for_nothing(index):
    text = "validate this PAC file before I upload it, I think there's a syntax error"
    assert _names(index, text)[0] == "zia_validate_pac"


def test_show_me_anywhere_or_a_question_after_a_four_word_label_reads(index):
    # class 'read asked, write ranked' (round 11): "what's set" had read as a command to set
    text = "Administration > Advanced Settings, just show me what's set"
    assert index.read(text).intent == "list"
    assert _names(index, text)[0] == "zia_get_advanced_settings"
    assert index.read("location Sao-Paulo-DC: is xff forwarding on and what up/down bandwidth is set").intent == "list"


def test_pending_or_staged_changes_and_making_them_live_is_an_activation(index):
    # the console's banner says changes are pending; the help portal's "Activating changes" pushes them live
    for text in ("zia banner says changes pending, make them live",
                 "CAB approved it, apply the staged internet access config now"):
        assert index.read(text).intent == "activate", text
        assert _names(index, text)[0] == "zia_activate", text
    assert _names(index, "is the config I saved an hour ago live yet")[0] in ("zia_get_activation_status",
                                                                              "ztw_get_status")  # no product named


def test_a_terse_request_for_a_new_object_may_say_what_it_does_in_a_clause_whose_verb_is_no_command(index):
    # class 'write asked, read ranked' (rounds 10-11): "... rule that blocks", "... rule to block", "... rule giving"
    for text, want in (("ai guard detection policy that blocks secrets and api keys in prompts", "aiguard_add_policy"),
                       ("file type rule to block .apk downloads for everybody", "zia_create_file_type_rule"),
                       ("bandwidth rule giving teams 40% minimum at the call centre",
                        "zia_create_bandwidth_control_rule")):
        assert index.read(text).intent == "create", text
        assert _names(index, text)[0] == want, text
    # a plural, a numbered object, a compound ("traffic forwarding") or a command first still read or change
    assert index.read("ec traffic forwarding rules with a zpa action").intent != "create"
    assert index.read("patch application profile 12 to turn on tunnel 2.0").intent != "create"
    assert index.read("indexed document matching profiles").intent != "create"
    assert index.read("rename conector group AWS-USE1 to AWS-Virginia").intent == "update"


def test_a_new_value_of_an_object_with_an_edit_verb_is_an_update_but_a_new_object_stays_a_create(index):
    # class 'wrong kind, same resource' (rounds 10-11): "new" had made these creates, the edit verb came second
    for text, want in (("the Rotterdam gre tunnel has a new source ip, update it", "zia_update_gre_tunnel"),
                       ("the Acme extranet got a new ip pool, edit it", "zia_update_extranet")):
        assert index.read(text).intent == "update", text
        assert _names(index, text)[0] == want, text
    # another write verb says what the new object does
    assert index.read("new ips rule to block smb from the internet").intent == "create"
    assert index.read("set up a new gre tunnel for the plant").intent == "create"


def test_a_three_letter_acronym_ending_in_s_is_no_plural(index):
    # "dns rule that ...", "IPS rule for ...": read as plurals, they had kept terse requests for a new rule reads
    for text, want in (("dns rule that redirects lookups for corp.example to our internal resolver",
                        "zia_create_firewall_dns_rule"),
                       ("IPS rule for the lab subnet that only alerts, no blocking", "zia_create_firewall_ips_rule")):
        assert index.read(text).intent == "create", text
        assert _names(index, text)[0] == want, text
    assert index.read("dns rules that redirect lookups for corp.example").intent != "create"


def test_a_kind_of_rule_then_a_colon_then_what_it_should_do_asks_for_a_new_rule(index):
    # class 'write asked, read ranked' (round 11): the label names the kind, the rest describes the new one
    text = "sandbox rule: detonate every archive downloaded from file sharing sites for finance"
    assert index.read(text).intent == "create"
    assert _names(index, text)[0] == "zia_create_sandbox_rule"
    assert index.read("timeout rule: vendors get logged out after 30 minutes idle").intent == "create"
    # a question, a named object, an existing one ("the ...") or another kind of label is not
    for text in ("location Sao-Paulo-DC: is xff forwarding on", "HIPAA-Strict dlp engine: require 5 matches",
                 "client forwarding policy: put the corp-lan bypass rule first"):
        assert index.read(text).intent != "create", text


def test_something_made_into_a_kind_of_object_asks_for_a_new_one_of_that_kind(index):
    # class 'write asked, read ranked' (round 11): "X as a <kind>" makes a new <kind>, the request's head
    text = "github's ip ranges as a destination group for the cloud connectors"
    assert index.read(text).intent == "create" and "group" in index.read(text).head
    assert _names(index, text)[0] == "ztw_create_ip_destination_group"
    assert _names(index, "store the svc-backup rdp password as a privileged credential")[0] == "zpa_create_credential"
    # a yes/no question about it is no request to make one
    assert index.read("can 198.51.100.7 be registered as a static ip").intent != "create"


def test_a_part_of_one_object_is_found_without_that_objects_id(index):
    # /incidents/{incident_id}/tickets is a get, but the request asks for the tickets, not for an incident's details
    found = _names(index, "tickets raised for a dlp incident in workflow automation")
    assert found[0] == "zwa_get_generated_tickets"


def test_a_write_verb_after_a_noun_is_part_of_a_name_unless_it_ends_a_terse_request(index):
    assert index.read("the rule label for temporary rules").intent is None
    assert index.read("tags we use to label workloads").intent is None  # a plural does not command
    assert index.read("zapp forwarding profile delete").intent == "delete"
    assert index.read("nuke the test users").intent == "delete"


def test_a_host_name_or_url_names_a_site_and_its_words_are_not_searched(index):
    # class 'sibling object' (round 15): the words of "fr-login-microsoft.top" or a defanged URL had been searched, and
    # one of them taken for the head noun ("evil", "hxxp")
    reading = index.read("is hxxps://secure-docu-sign[.]top/login blocked for everyone")
    assert not {"hxxp", "secur", "docu", "sign", "top", "login"} & reading.terms.keys() and reading.names_one
    assert not {"evil", "com"} & index.read("block evil-updates.com for everyone").terms.keys()
    # a file is no host ("invoice_8832.iso", "setup.exe"), nor is an e-mail address's domain
    assert "setup" in index.read("who downloaded setup.exe").terms
    assert "acme" in index.read("reset the password of alice@acme.com").terms
    assert _names(index, "what category would zia give login-micros0ft-verify.top")[0] in (
        "zia_lookup_url_classification", "zia_lookup_url_categories")


def test_chat_around_a_request_and_a_clause_of_if_ask_nothing(index):
    # "so I know if we're already blocking it" is no command to block; "the disconnected ones" is no "one" object
    text = "phishing report from a user: can you tell me how zscaler classifies that url so I know if we block it"
    assert index.read(text).intent in (None, "list")
    assert _names(index, text)[0] == "zia_lookup_url_classification"
    assert _names(index, "list every app connector, I only care about the disconnected ones")[0] == (
        "zpa_list_all_assistants")
    assert not {"her", "him"} & index.read("reset her zidentity password and let him skip mfa").terms.keys()
    assert _names(index, "new segment group called Payroll-Apps")[0] == "zpa_create_application_group"  # no "call"


def test_an_activation_asked_after_edits_were_saved_is_the_activation_not_the_edit(index):
    # the request names what was edited ("the firewall rule edits"), but asks for the edits to go live
    for text in ("I saved the dns control changes, now activate them in zia",
                 "the url filtering edits are saved but not enforced yet, push the changes so they go live"):
        assert index.read(text).intent == "activate", text
        assert _names(index, text)[0] == "zia_activate", text
    # ... and an operation named activate on an object is that object's activation
    assert _names(index, "re-activate the break glass account of the network lead")[0] == (
        "zpa_activate_emergency_access_user")
    assert index.read("push the firewall alerts and the audit log to our log platform").intent != "activate"  # sent
    assert index.read("publish an ssh console for the build server in pra").intent == "create"
    # "publish ... as a (new) private app" makes an app segment, it pushes nothing live
    assert _names(index, "publish sftp on 10.40.0.0/16 port 22 as a new private app")[0] == "zpa_create_application"


def test_adding_to_an_object_of_a_product_is_an_update_and_adding_inside_an_object_creates_there(index):
    # "to the cloud connector source IP group" names a product's object, not the product ("add her to zpa")
    assert index.read("add 10.70.0.0/16 to the cloud connector source ip group Workloads-Dev").intent == "update"
    assert _names(index, "add 10.70.0.0/16 to the cloud connector source ip group Workloads-Dev")[0] == (
        "ztw_update_ip_source_group")
    assert index.read("add our new 'Payroll' app to zdx monitoring").intent == "create"  # the product's function
    # a probe added to a ZDX app is made under the app: POST /applications/{aid}/monitors
    assert _names(index, "add a web probe for portal.acme.com to the Portal app in zdx")[0] == (
        "zdx_create_application_monitor")


def test_an_id_after_a_noun_leaves_the_noun_the_head(index):
    assert index.read("add user 77120 to group 88 in zidentity").head >= {"user"}
    assert "office" not in index.read("give office 365 a bigger share of bandwidth").head  # a product's version
    assert _names(index, "add user 77120 to group 88 in zidentity")[0] in ("zid_add_group_user", "zid_add_group_users")
    # a verb operations are named by acts on what it names, not on the object that holds it
    assert "secret" in index.read("rotate the secret on api client 91 in zidentity").head


def test_a_quoted_name_is_searched_lightly_and_bulk_opens_a_command(index):
    reading = index.read("add another secret to api client 'siem-export'")
    assert reading.terms["siem"] < 1.0 and reading.terms["export"] < 1.0
    assert _names(index, "add another secret to api client 'siem-export'")[0] == "zid_add_secret"
    assert index.read("bulk remove the unused app connectors in the lab").intent == "delete"
    assert _names(index, "bulk remove the unused app connectors in the lab")[0] == "zpa_bulk_delete_assistants"


def test_an_edit_verb_before_add_makes_what_is_added_part_of_the_edit(index):
    text = "edit the ssl inspection rule 'Skip finance' and add the government category"
    assert index.read(text).intent == "update"
    assert _names(index, text)[0] == "zia_update_ssl_inspection_rule"


def test_a_required_id_in_the_query_makes_a_read_a_get(catalog):
    assert operation_kind(catalog.tools["zcc_get_device_details"]) == "get"  # getDeviceDetails?udid=
    assert operation_kind(catalog.tools["zcc_list_devices"]) == "list"


def test_each_operation_is_indexed_by_the_property_names_it_sends_and_returns(catalog):
    from oneapi_mcp._search_fields import operation_fields

    fields = operation_fields(catalog.tools.values())
    assert "preSharedKey" in fields["zia_create_vpn_credential"]  # request body
    assert "md5HashValueList" in fields["zia_get_behavioral_analysis_advanced_settings"]  # response
    assert "customerId" not in fields["zpa_list_all_assistants"]  # in every ZPA path: says nothing
    assert "zms_list_agents" not in fields  # GraphQL operations share one path


def test_listing_tools_builds_no_search_index_and_reads_no_property_names_nor_sdk_names():
    import subprocess
    import sys

    code = (
        "import sys, anyio\n"
        "from mcp import Client\n"
        "from oneapi_mcp._server import Runtime, build_server\n"
        "from oneapi_mcp._settings import ServerSettings\n"
        "rt = Runtime(settings=ServerSettings(), executor_factory=lambda c: None, customer_id_known=True)\n"
        "async def main():\n"
        "    async with Client(build_server(rt), cache=None) as client:\n"
        "        await client.list_tools()\n"
        "anyio.run(main)\n"
        "print('oneapi_mcp._search_fields' in sys.modules, rt._index is None,\n"
        "      'oneapi_mcp._search_sdk' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out[-3:-1] == ["False", "True"]  # the index (and the OpenAPI documents it reads) wait for the first search
    assert out[-1] == "False"  # the SDK's names are read when the search index is first built, never at start-up


def test_a_word_no_operation_uses_next_to_block_or_allow_is_read_as_a_site_or_an_app(index):
    found = _names(index, "unblock examplegamezone", limit=3)  # without the rule: the denylist, ZTW's health check
    assert all(n.startswith("zia_") and "web_application_rule" in n for n in found), found
    # in another product, or with a noun "block", the word stays a name
    assert not {"zia_create_url_filtering_rule"} & set(_names(index, "a new block of addresses for examplegamezone"))


def test_console_words_written_for_one_operation_name_its_siblings_on_the_same_resource():
    from oneapi_mcp._search_eval import _Listed

    def tool(name, title, method, path, scope):
        return _Listed(name, title, title, scope, "zbi", toolset="zbi.reports", path=path, method=method)

    tools = [tool("zbi_list_report_configs", "Lists report schedules", "GET", "/bi/reports/{type}", "read"),
             tool("zbi_update_report_config", "Updates report config", "PUT", "/bi/reports/{type}/{id}", "write"),
             tool("zbi_update_custom_app", "Updates custom app config", "PUT", "/bi/customapps/{id}", "write")]
    found = [t.name for _, t in SearchIndex(tools).search("change a report schedule")]
    assert found[0] == "zbi_update_report_config"  # "schedule" is only in its sibling's title


def test_a_second_named_product_is_a_word_of_the_tool_name(index):
    assert _names(index, "which groups get zpa in client connector")[0] == "zcc_list_zpa_group_entitlements"


def _server(**settings) -> object:
    def factory(catalog):
        raise AssertionError("discovery needs no upstream")

    return build_server(Runtime(settings=ServerSettings(**settings), executor_factory=factory, customer_id_known=True))


async def test_a_read_only_server_names_the_delete_it_cannot_run_and_the_profile_that_would_allow_it():
    async with Client(_server(profile="read-only"), cache=None) as client:
        found = await client.call_tool("search_operations", {"query": "delete firewall rule"})
        described = await client.call_tool("describe_operation", {"name": "zia_remove_firewall_filtering_rule"})
    assert described.structured_content["allowed_here"] is False
    assert described.structured_content["allowed_by"] == {"profile": "admin"}
    data = found.structured_content
    assert all(r["scope"] == "read" for r in data["results"])
    beyond = {b["name"]: b for b in data["not_allowed_here"]}
    remove = beyond["zia_remove_firewall_filtering_rule"]
    assert remove["allowed_by"] == {"profile": "admin"} and "destructive" in remove["why"]
    assert "cannot be invoked here" in data["note"] and len(data["not_allowed_here"]) <= 5
    async with Client(_server(profile="read-only"), cache=None) as client:
        offboard = await client.call_tool("search_operations", {"query": "offboard a user who left"})
    composite = next(b for b in offboard.structured_content["not_allowed_here"] if b.get("composite"))
    assert composite["allowed_by"]["profile"] in ("read-write", "admin")
    assert composite["name"] not in [r["name"] for r in offboard.structured_content["results"]]


async def test_composite_tools_are_ranked_on_the_operations_scale_so_a_weak_match_stays_below_them():
    # composite tools had their own 53-tool index (every word rare) and +0.5 on top: a composite matching nothing
    # outranked operations a vague request did match, and one named by its own title ranked under operations
    async with Client(_server(profile="admin"), cache=None) as client:
        vague = await client.call_tool("search_operations", {"query": "zpa svr groups"})
        named = await client.call_tool("search_operations", {"query": "export security events to the siem"})
    assert not any(r.get("composite") for r in vague.structured_content["results"][:3])
    assert named.structured_content["results"][0]["name"] == "siem_export_events"


def test_an_index_alongside_another_scores_a_shared_word_as_rare_as_the_other_does(index):
    class Tool:
        name, operation_id, toolset, path, title, service, scope, method = (
            "zz_sync_users", "zz_sync_users", "zz", "", "Sync users", "zz", "write", "COMPOSITE")
        description = "Synchronises users and groups from the directory."

    beside = index.alongside([Tool()])
    assert beside is index.alongside([Tool()])  # kept: built once per set of tools
    assert beside._idf["user"] == pytest.approx(math.log(1 + (index._n + 1 - (index._df["user"] + 1) + 0.5)
                                                          / (index._df["user"] + 1 + 0.5)))
    assert beside._idf["user"] < beside._idf["synchroniz"]  # a word no operation uses is the rarest


async def test_search_says_how_it_read_a_misspelt_request_and_the_product_it_names():
    async with Client(_server(), cache=None) as client:
        found = await client.call_tool("search_operations", {"query": "list firewal rules in internet access"})
    data = found.structured_content
    assert data["understood"] == {"services": ["zia"], "corrected": {"firewal": "firewall"}}
    assert data["results"][0]["name"] == "zia_list_firewall_filtering_rules"


async def test_a_denied_tool_is_named_with_the_rule_that_hides_it_and_nothing_beyond_when_all_is_allowed():
    async with Client(_server(profile="admin", deny_tools=("*_firewall_filtering_rule*",)), cache=None) as client:
        denied = await client.call_tool("search_operations", {"query": "delete firewall rule"})
        allowed = await client.call_tool("search_operations", {"query": "list url categories"})
    entry = next(b for b in denied.structured_content["not_allowed_here"]
                 if b["name"] == "zia_remove_firewall_filtering_rule")
    assert "deny_tools" in entry["why"] and "rule" in entry["allowed_by"]
    assert "not_allowed_here" not in allowed.structured_content


async def test_on_2026_07_28_every_connection_lists_the_same_tools_and_enable_toolset_is_refused():
    server = _server(profile="read-write")
    async with Client(server, cache=None) as first, Client(server, cache=None) as second:
        refused = await first.call_tool("enable_toolset", {"name": "zia.users"})
        one, two = await first.list_tools(), await second.list_tools()
        assert first.protocol_version == "2026-07-28"
    assert refused.is_error and refused.structured_content["error"]["kind"] == "not_supported"
    assert [t.name for t in one.tools] == [t.name for t in two.tools]
    assert "enable_toolset" not in [t.name for t in one.tools] and "zia_list_users" not in [t.name for t in one.tools]


async def test_on_2026_07_28_toolsets_come_from_the_named_servers_configuration():
    async with Client(_server(toolsets=("zia.users",)), cache=None) as client:
        names = [t.name for t in (await client.list_tools()).tools]
    assert "zia_list_users" in names and "enable_toolset" not in names


def test_the_vocabulary_shipped_with_the_package_is_the_one_in_specs():
    shipped, source = ROOT / "generated" / "vocabulary.yaml", ROOT / "specs" / "overlays" / "vocabulary.yaml"
    assert shipped.read_bytes() == source.read_bytes()


def test_a_descriptions_overlay_is_applied_after_the_services_overlay_and_changes_the_fingerprint(tmp_path):
    import shutil

    from oneapi_mcp.codegen._generate import _service_fingerprint
    from oneapi_mcp.codegen._load import load_spec

    spec_dir = tmp_path / "spec"
    shutil.copytree(ROOT / "tests" / "golden" / "overlay" / "spec", spec_dir)
    spec, overlay = spec_dir / "pets.yaml", spec_dir / "overlays" / "pets.yaml"
    before = _service_fingerprint(spec, overlay, {}, "gen")
    (spec_dir / "overlays" / "pets.descriptions.yaml").write_text(
        "overlay: 1.0.0\ninfo: {title: words, version: 1.0.0}\nactions:\n"
        "  - target: \"$.paths['/pets/{petId}'].get\"\n    update:\n      description: Returns one animal.\n")
    loaded = load_spec(spec, overlay, validate=False)
    assert loaded.problems == []
    assert loaded.doc["paths"]["/pets/{petId}"]["get"]["description"] == "Returns one animal."
    assert _service_fingerprint(spec, overlay, {}, "gen") != before


def test_the_shipped_examples_are_the_benchmarks_requests_as_search_reads_them_today(catalog):
    # specs/search_examples.json is made by `make search-examples` and copied into generated/ by `make generate`
    # (check-generated compares the copy): a request added, a vocabulary or reading change makes it stale
    composites = ROOT / "tests" / "search_composites.yaml"
    assert (ROOT / "specs" / EXAMPLES_FILE).read_text() == dumps(read_examples(BENCHMARK, composites, catalog)), (
        "specs/search_examples.json is stale: run `make search-examples && make generate`")


def test_a_request_worded_as_an_earlier_one_finds_the_operation_that_one_wanted_and_a_round_can_be_left_out(catalog):
    tools = list(catalog.tools.values())
    untaught = SearchIndex(tools)
    data = {"examples": {"GET /zia/api/v1/greTunnels": [[3, sorted(untaught.read("list our pipes to lisbon").terms)],
                                                        [5, ["list", "tunnel"]]]}, "composites": {}}
    assert examples_by_tool(tools, data=data) == {"zia_list_gre_tunnels": [["lisbon", "pipe"], ["list", "tunnel"]]}
    assert examples_by_tool(tools, data=data, leave_out=3) == {"zia_list_gre_tunnels": [["list", "tunnel"]]}
    taught = SearchIndex(tools, examples=examples_by_tool(tools, data=data))
    # "pipe" is in no operation's name or description: only the earlier request's wording finds the GRE tunnels
    assert _names(taught, "what pipes do we have")[0] == "zia_list_gre_tunnels"
    assert "zia_list_gre_tunnels" not in _names(untaught, "what pipes do we have")[:5]
    assert "zia_list_gre_tunnels" not in _names(
        SearchIndex(tools, examples=examples_by_tool(tools, data=data, leave_out=3)), "what pipes do we have")[:5]


def test_the_shipped_examples_cover_most_operations_and_are_words(catalog):
    shipped = examples_by_tool(list(catalog.tools.values()))
    assert len(shipped) >= 1200 and all(all(isinstance(w, str) for terms in v for w in terms) for v in shipped.values())


def test_an_operation_nobody_asked_for_stands_in_its_own_title_so_examples_do_not_bury_it(catalog):
    from oneapi_mcp._search_examples import STAND_IN

    tools = [catalog.tools["zia_list_gre_tunnels"], catalog.tools["zia_list_static_ips"]]
    data = {"examples": {"GET /zia/api/v1/greTunnels": [[3, ["pipe"]]]}, "composites": {}}
    got = examples_by_tool(tools, data=data, read=lambda text: [text.split(".")[0]])
    assert got["zia_list_gre_tunnels"] == [["pipe"]]  # asked for: its requests only
    assert got["zia_list_static_ips"] == [[catalog.tools["zia_list_static_ips"].title]] * STAND_IN
    # with its round left out, the one asked for stands in its title too
    assert examples_by_tool(tools, data=data, leave_out=3, read=lambda text: ["own"])["zia_list_gre_tunnels"] == [
        ["own"]] * STAND_IN

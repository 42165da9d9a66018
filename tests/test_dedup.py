"""Story assignment on real DuckDB files: each edit a copy goes through is matched, each hard
negative is not, and the incremental path, rebuilds and reprocessing agree."""
from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from pathlib import Path

import duckdb
import pytest

from tasks import dedup
from tasks.db import apply_migrations

T0 = datetime(2024, 3, 4, 9, 0, tzinfo=timezone.utc)

STORY = [
    "HARBOR CITY (AP) — Dockworkers at the country's busiest container port walked off the job on Monday, "
    "halting the unloading of hundreds of ships and threatening to snarl supply chains weeks before the "
    "holiday shopping season begins.",
    "The strike, the first at the port in nearly five decades, began at midnight after talks between the "
    "longshore union and a coalition of shipping companies broke down over wages and the use of automated "
    "cranes on the terminals.",
    "Union leader Grace Okafor said the companies had refused to budge on automation, which she called a "
    "direct threat to thousands of jobs that families along the waterfront have depended on for generations.",
    "\"We have been patient for two years, and we were met with nothing but delay,\" Okafor said at a rally "
    "outside the main gate, where several hundred workers waved signs and chanted as trucks idled nearby.",
    "The shipping coalition said in a statement that its latest offer included a raise of more than 50 "
    "percent over six years and that it remained ready to return to the bargaining table at any time.",
    "Economists warned that a long stoppage could cost the economy billions of dollars a day, as goods from "
    "electronics to auto parts pile up on vessels anchored outside the breakwater.",
    "Retailers have been stocking up for months in anticipation of a possible strike, but industry groups "
    "said inventories would not last if the walkout stretched beyond a couple of weeks.",
    "The port handles roughly a third of the nation's container imports, and officials at smaller harbors "
    "said they lacked the capacity to absorb much of the diverted traffic.",
    "The last strike at the port, in 1977, lasted almost two months and ended only after federal mediators "
    "brokered a contract that introduced the first pension guarantees for dockworkers.",
    "Federal labor officials said they were monitoring the situation closely but had no immediate plans to "
    "intervene, adding that both sides were expected to meet again later this week.",
]

OTHER = [
    "RIVERTON (AP) — A drought that has parched farmland across the southern plains for three summers has "
    "pushed wheat prices to their highest level in a decade, and growers say the worst may be yet to come.",
    "Reservoirs that supply irrigation districts stood at less than a fifth of capacity last week, according "
    "to state water managers, who have begun rationing deliveries to the largest farms.",
    "Many farmers have sold off cattle they can no longer feed, flooding regional auction barns and "
    "depressing livestock prices even as the cost of hay has tripled since the spring.",
    "Agricultural economists said the losses could exceed those of the dust bowl years when adjusted for "
    "inflation, and lenders have started to tighten credit for smaller operations.",
    "State lawmakers are weighing an emergency relief package, but its sponsors concede that no amount of "
    "money will make it rain, and several counties have already declared disasters.",
]

TEMPLATE_HEAD = ("The Valley Courier brings you trusted local reporting on the issues that shape our region "
                 "every day.")
TEMPLATE_FOOT = ("Every story we publish is made possible by Valley Courier members. Join them and keep local "
                 "news strong.")
COURIER = "valleycourier.com"


def body(paragraphs: list[str]) -> str:
    return "\n\n".join(paragraphs)


@pytest.fixture
def con(tmp_path: Path) -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect(str(tmp_path / "wirecopy.duckdb"))
    apply_migrations(connection)
    yield connection
    connection.close()


def add(con: duckdb.DuckDBPyConnection, article_id: str, text: str, *, outlet: str | None = None,
        url: str | None = None, minutes: int = 0, wire: str | None = None, title: str | None = None) -> None:
    outlet = outlet or f"{article_id}.example.com"
    t = T0 + timedelta(minutes=minutes)
    con.execute(
        """INSERT INTO articles (article_id, url, outlet, title, published_at, fetched_at, text, wire_service,
                                 extracted_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        [article_id, url or f"https://{outlet}/{article_id}", outlet, title, t, t, text, wire, t],
    )


def assign(con: duckdb.DuckDBPyConnection, ids: list[str]) -> None:
    con.execute("BEGIN TRANSACTION")
    dedup.assign_stories(con, ids)
    con.execute("COMMIT")


def rebuild(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("BEGIN TRANSACTION")
    dedup.rebuild_stories(con)
    con.execute("COMMIT")


def story_of(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    return dict(con.execute("SELECT article_id, story_id FROM articles").fetchall())


def partition(stories: dict[str, str]) -> set[frozenset[str]]:
    groups: dict[str, set[str]] = {}
    for article, story in stories.items():
        groups.setdefault(story, set()).add(article)
    return {frozenset(g) for g in groups.values()}


def same_story(con: duckdb.DuckDBPyConnection, a: str, b: str) -> bool:
    s = story_of(con)
    return s[a] == s[b]


# --- edits a copy goes through: all matched -------------------------------------------------

def britishise(text: str) -> str:
    for us, uk in (("labor", "labour"), ("harbor", "harbour"), ("Harbor", "Harbour"), ("center", "centre")):
        text = text.replace(us, uk)
    return text


COPIES = {
    "headline, caption, furniture, credit": [
        "Port strike halts ships as dockworkers walk out",
        "Striking dockworkers picket at the main gate on Monday. (AP Photo/Jane Doe)",
        *STORY[:5],
        "Sign up for our morning newsletter to get the day's top stories in your inbox.",
        *STORY[5:],
        "— Associated Press",
    ],
    "honorifics and British spelling": [britishise(p.replace("Okafor said", "Ms Okafor said")) for p in STORY],
    "paragraphs split around a link, dateline dropped": [
        STORY[0].split(" — ", 1)[1], STORY[1],
        STORY[2][:60], "Read more: Automation on the docks, explained", STORY[2][60:], *STORY[3:],
    ],
    "trimmed from the bottom": STORY[:4],
    "teaser": [STORY[0], "Read the full story on our website."],
    "later version, new lead, old lead second": [
        "HARBOR CITY (AP) — Talks to end a strike that has shut the country's busiest container port resumed on "
        "Tuesday under pressure from the White House, as ships anchored offshore stretched to the horizon.",
        *STORY, "Negotiators were expected to work through the night, a person familiar with the talks said.",
    ],
    "write-thru, new lead, old lead dropped": [
        "HARBOR CITY (AP) — The strike at the busiest container port in the country entered its second day on "
        "Tuesday with no sign of a deal, as the first cargo ships were diverted to smaller harbors up the coast.",
        *STORY[1:],
    ],
}


@pytest.mark.parametrize("edit", sorted(COPIES))
def test_edited_copy_joins_the_wire_story(con: duckdb.DuckDBPyConnection, edit: str) -> None:
    add(con, "wire", body(STORY), outlet="apnews.com", url="https://apnews.com/article/port-strike", wire="AP")
    add(con, "copy", body(COPIES[edit]), minutes=30)
    assign(con, ["wire"])
    assign(con, ["copy"])
    assert same_story(con, "wire", "copy")


def test_copies_of_copies_chain_into_one_story(con: duckdb.DuckDBPyConnection) -> None:
    """A teaser and a write-thru share no text, yet both are the story (through the full copy)."""
    add(con, "teaser", body(COPIES["teaser"]), minutes=10)
    add(con, "writethru", body(COPIES["write-thru, new lead, old lead dropped"]), minutes=20)
    assign(con, ["teaser", "writethru"])
    assert not same_story(con, "teaser", "writethru")
    add(con, "full", body(STORY), minutes=5)
    assign(con, ["full"])
    assert len(set(story_of(con).values())) == 1


# --- hard negatives: never matched ----------------------------------------------------------

FOLLOW_UP = [
    "HARBOR CITY (AP) — Federal mediators summoned both sides of the port dispute to the capital on Thursday, "
    "the first sign that the administration is prepared to step in as the cost of the stoppage mounts.",
    "The mediation service said the meeting would begin Friday morning and could last through the weekend, "
    "and asked the union and the shipping coalition to refrain from public statements in the meantime.",
    *STORY[6:9],
    "Farm groups said on Thursday that exports of soybeans and pork had been stranded on the docks, and "
    "several asked the governor to press for an emergency order reopening at least part of the port.",
    "Shipping data showed that more than 80 vessels were waiting offshore, up from about 30 on Monday, and "
    "that some carriers had begun imposing surcharges on cargo bound for the region.",
    "A spokesman for the coalition declined to comment on the mediation, and the union did not respond.",
]

SAME_EVENT = [
    "Pickets went up before dawn outside the container terminals on Monday, and by mid-morning the cranes "
    "that normally swing boxes off ships around the clock had fallen silent.",
    "For truck drivers waiting in line at the gate, the walkout meant a day without pay. Several said they "
    "had been warned by dispatchers to expect delays but had not believed a strike would actually happen.",
    STORY[3],
    "Small importers said they were scrambling to find space at other harbors, with little luck, and a "
    "furniture wholesaler said his spring orders were sitting on a ship he could see from his office.",
    "Local restaurants near the terminals said business had dropped sharply as the usual lunch crowd of "
    "crane operators and clerks stayed home or joined the picket line.",
]


def test_follow_up_reusing_background_paragraphs_is_another_story(con: duckdb.DuckDBPyConnection) -> None:
    add(con, "original", body(STORY))
    add(con, "followup", body(FOLLOW_UP), minutes=60 * 24)
    assign(con, ["original", "followup"])
    assert not same_story(con, "original", "followup")


def test_story_on_the_same_event_quoting_the_same_words_is_another_story(con: duckdb.DuckDBPyConnection) -> None:
    add(con, "original", body(STORY))
    add(con, "local", body(SAME_EVENT), minutes=90)
    assign(con, ["original", "local"])
    assert not same_story(con, "original", "local")


def test_teaser_whose_lines_another_story_quotes_does_not_join_the_two(con: duckdb.DuckDBPyConnection) -> None:
    """The teaser is all inside both texts; only its source opens with it, in order."""
    teaser = [STORY[0], STORY[1]]
    briefing = ["What we know so far.", STORY[1], SAME_EVENT[0],
                "Dockworkers at the country's busiest container port walked off the job on Monday, halting "
                "the unloading of hundreds of ships, as one report put it.", SAME_EVENT[1], *SAME_EVENT[3:], *OTHER]
    add(con, "original", body(STORY))
    add(con, "teaser", body(teaser), minutes=20)
    add(con, "briefing", body(briefing), minutes=45)
    assign(con, ["original", "teaser", "briefing"])
    assert same_story(con, "original", "teaser")
    assert not same_story(con, "original", "briefing")


def test_outlet_template_does_not_join_its_stories(con: duckdb.DuckDBPyConnection) -> None:
    """Short pieces of one outlet share only its header and footer: all different stories."""
    pieces = [STORY[1:3], OTHER[1:3], [STORY[7]], [OTHER[3]], STORY[8:10]]
    for i, paragraphs in enumerate(pieces):
        add(con, f"piece{i}", body([TEMPLATE_HEAD, *paragraphs, TEMPLATE_FOOT]), outlet=COURIER, minutes=i)
    assign(con, [f"piece{i}" for i in range(2)])
    assign(con, [f"piece{i}" for i in range(2, len(pieces))])
    assert len(set(story_of(con).values())) == len(pieces)


def test_shared_file_photo_caption_does_not_join_stories(con: duckdb.DuckDBPyConnection) -> None:
    caption = ("FILE - Cranes stand idle at the container terminal of the port, Monday, March 4, 2024, during a "
               "previous labor dispute that lasted several days. (AP Photo/Jane Doe, File)")
    add(con, "strike", body([caption, *STORY[:3]]))
    add(con, "drought", body([caption, *OTHER]), minutes=5)
    assign(con, ["strike", "drought"])
    assert not same_story(con, "strike", "drought")


# --- incremental, rebuild, reprocess ----------------------------------------------------------

def corpus(con: duckdb.DuckDBPyConnection) -> list[str]:
    add(con, "wire", body(STORY), outlet="apnews.com", url="https://apnews.com/article/port-strike", wire="AP",
        title="Dockworkers strike at busiest port", minutes=0)
    for i, edit in enumerate(sorted(COPIES)):
        add(con, f"copy{i}", body(COPIES[edit]), outlet=f"outlet{i % 4}.example.com", minutes=10 + 7 * i)
    add(con, "followup", body(FOLLOW_UP), outlet="outlet1.example.com", minutes=60 * 24, wire="AP")
    add(con, "local", body(SAME_EVENT), outlet="outlet2.example.com", minutes=90)
    add(con, "drought", body(OTHER), outlet="outlet3.example.com", minutes=45, wire="Reuters")
    add(con, "drought-copy", body(OTHER[:3]), outlet="outlet0.example.com", minutes=80)
    return [r[0] for r in con.execute("SELECT article_id FROM articles ORDER BY article_id").fetchall()]


def test_incremental_in_any_order_equals_rebuild(con: duckdb.DuckDBPyConnection) -> None:
    ids = corpus(con)
    random.Random(3).shuffle(ids)
    for start in range(0, len(ids), 3):
        assign(con, ids[start:start + 3])
    incremental = story_of(con)
    stories = con.execute("SELECT * FROM stories ORDER BY story_id").fetchall()
    rebuild(con)
    assert story_of(con) == incremental
    assert con.execute("SELECT * FROM stories ORDER BY story_id").fetchall() == stories
    assert partition(incremental) == {
        frozenset({"wire", *(f"copy{i}" for i in range(len(COPIES)))}),
        frozenset({"followup"}), frozenset({"local"}), frozenset({"drought", "drought-copy"}),
    }


def test_reassigning_the_same_articles_changes_nothing(con: duckdb.DuckDBPyConnection) -> None:
    ids = corpus(con)
    assign(con, ids)
    state = [con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in ("stories", "story_edges")]
    before = story_of(con)
    assign(con, ids[:5])
    assign(con, ids)
    assert story_of(con) == before
    assert [con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in ("stories", "story_edges")] == state


def test_reprocessed_article_moves_to_its_new_story(con: duckdb.DuckDBPyConnection) -> None:
    ids = corpus(con)
    assign(con, ids)
    # The copy now carries the drought story: it leaves the strike story and joins the drought one.
    con.execute("UPDATE articles SET text = ? WHERE article_id = 'copy3'", [body(OTHER[:4])])
    assign(con, ["copy3"])
    s = story_of(con)
    assert s["copy3"] == s["drought"] != s["wire"]
    counts = dict(con.execute("SELECT story_id, article_count FROM stories").fetchall())
    assert counts[s["wire"]] == len(COPIES) and counts[s["drought"]] == 3
    # The follow-up becomes another text: its old story is left empty and deleted.
    old = s["followup"]
    con.execute("UPDATE articles SET text = ? WHERE article_id = 'followup'", [body(STORY[:5])])
    assign(con, ["followup"])
    s = story_of(con)
    assert s["followup"] == s["wire"]
    left = con.execute("SELECT count(*) FROM stories WHERE story_id = ?", [old]).fetchone()[0]
    assert left == (old == s["wire"])
    snapshot = story_of(con)
    rebuild(con)
    assert story_of(con) == snapshot


def test_furniture_learnt_from_later_pages_reindexes_the_earlier_ones(con: duckdb.DuckDBPyConnection) -> None:
    """Two copies of one story carry the outlet's header and footer; once other stories of the outlet
    show those lines to be furniture, the copies are re-indexed without them and stay one story."""
    for i in range(2):
        add(con, f"copy{i}", body([TEMPLATE_HEAD, TEMPLATE_FOOT, STORY[7], STORY[8]]), outlet=COURIER, minutes=i)
    assign(con, ["copy0", "copy1"])
    content = "SELECT n_shingles FROM story_docs WHERE article_id = 'copy0'"
    with_furniture = con.execute(content).fetchone()[0]
    for i, paragraph in enumerate(OTHER[2:5]):
        add(con, f"other{i}", body([TEMPLATE_HEAD, TEMPLATE_FOOT, paragraph]), outlet=COURIER, minutes=5 + i)
    assign(con, ["other0", "other1", "other2"])
    assert con.execute(content).fetchone()[0] < with_furniture, "copy0 re-indexed without the furniture"
    assert partition(story_of(con)) == {frozenset({"copy0", "copy1"}), frozenset({"other0"}), frozenset({"other1"}),
                                        frozenset({"other2"})}
    snapshot = story_of(con)
    rebuild(con)
    assert story_of(con) == snapshot


def test_a_one_page_outlets_widget_lines_do_not_link_it_to_another_outlets_page(
        con: duckdb.DuckDBPyConnection) -> None:
    """Two sites of one publishing group, one page each, open with the same weather widget."""
    widget = ["Your weather is set to Harbor City. You can change the location at any time from the menu.",
              "Areas of fog early, becoming mostly sunny this afternoon with a high near 91 and light winds."]
    add(con, "gazette", body([*widget, *STORY[1:7]]), outlet="harborgazette.example.com")
    add(con, "herald", body([*widget, *OTHER, *THIRD[3:]]), outlet="riverherald.example.com", minutes=3)
    assign(con, ["gazette"])
    assign(con, ["herald"])
    assert not same_story(con, "gazette", "herald")


# --- stories rows and views -------------------------------------------------------------------

def test_story_aggregates_and_views(con: duckdb.DuckDBPyConnection) -> None:
    assign(con, corpus(con))
    s = story_of(con)
    row = con.execute("SELECT * FROM stories WHERE story_id = ?", [s["wire"]]).fetchone()
    story_id, canonical, wire, first, count, outlets = row
    assert (story_id, canonical, wire, first, count, outlets) == ("wire", "wire", "AP", T0, len(COPIES) + 1, 5)
    # Without the agency's page, the canonical copy is the earliest of the most complete ones.
    drought = con.execute("SELECT canonical_article_id, wire_service FROM stories WHERE story_id = ?",
                          [s["drought"]]).fetchone()
    assert drought == ("drought", "Reuters")

    pickup = con.execute("""SELECT title, wire_service, wire_published_at, source_outlet, outlets,
                                   first_pickup_lag, median_pickup_lag
                            FROM story_pickup WHERE story_id = 'wire'""").fetchone()
    assert pickup[:4] == ("Dockworkers strike at busiest port", "AP", T0, "apnews.com")
    assert pickup[4][0] == "apnews.com" and sorted(pickup[4][1:]) == [f"outlet{i}.example.com" for i in range(4)]
    assert pickup[5] == timedelta(minutes=10)  # outlet0's first copy
    assert pickup[6] == timedelta(minutes=20.5)  # outlets 0..3 first copies after 10, 17, 24, 31 minutes

    deduped = con.execute(
        "SELECT article_id, story_wire_service, article_count FROM articles_deduped ORDER BY ALL").fetchall()
    assert len(deduped) == con.execute("SELECT count(*) FROM stories").fetchone()[0]
    assert ("wire", "AP", len(COPIES) + 1) in deduped
    attributed = dict(con.execute("SELECT article_id, attributed_wire FROM article_wire").fetchall())
    assert all(attributed[f"copy{i}"] == "AP" for i in range(len(COPIES)))
    assert attributed["drought-copy"] == "Reuters" and attributed["local"] is None
    detected = dict(con.execute("SELECT article_id, wire_service FROM articles").fetchall())
    assert detected["copy0"] is None  # per-article detection is kept as it was


# --- clustering: one wrong edge, digests ---------------------------------------------------------

THIRD = [
    "NORTH FORK (AP) — Firefighters gained ground on Wednesday against a wildfire that has burned more than "
    "40 square miles of timber in the mountains east of the city, helped by cooler air and a shift in the wind.",
    "The fire was 35 percent contained by evening, according to the state forestry agency, which said crews "
    "had cut lines around the northern flank and were protecting a cluster of cabins near the lake.",
    "Evacuation orders for two small towns were lifted, though residents were told to be ready to leave again "
    "if conditions changed, and smoke kept schools in the valley closed for a third straight day.",
    "Investigators said the blaze appeared to have been started by a power line brought down in a storm, and "
    "the utility said it was cooperating with the inquiry and had shut off power to nearby circuits.",
    "More than 900 firefighters from six states were assigned to the fire, and officials said they expected "
    "full containment by the end of next week if the weather held.",
]


def test_a_chain_of_two_stories_through_one_shared_paragraph_stays_two_stories(
        con: duckdb.DuckDBPyConnection) -> None:
    """Two copies of the drought story open with the strike story's lead: edges, yet two stories."""
    add(con, "strike", body(STORY))
    add(con, "strike-writethru", body(COPIES["write-thru, new lead, old lead dropped"]), minutes=5)
    add(con, "strike-british", body([britishise(p) for p in STORY[1:]]), minutes=10)
    add(con, "drought", body(OTHER), minutes=15)
    add(con, "drought-trimmed", body(OTHER[:4]), minutes=20)
    for i in range(2):
        add(con, f"drought-with-strike-lead{i}", body([STORY[0], *OTHER[:4]]), minutes=25 + i)
    assign(con, [r[0] for r in con.execute("SELECT article_id FROM articles").fetchall()])
    bridges = con.execute("""SELECT a, b FROM story_edges WHERE (a LIKE 'strike%') <> (b LIKE 'strike%')
                             ORDER BY ALL""").fetchall()
    assert bridges == [(f"drought-with-strike-lead{i}", "strike") for i in range(2)], "edges between the stories"
    assert partition(story_of(con)) == {
        frozenset({"strike", "strike-writethru", "strike-british"}),
        frozenset({"drought", "drought-trimmed", "drought-with-strike-lead0", "drought-with-strike-lead1"})}


def test_a_digest_holding_three_stories_joins_none_of_them(con: duckdb.DuckDBPyConnection) -> None:
    """AP News in Brief: the openings of three stories on one page, each story with copies elsewhere."""
    for name, paragraphs in (("strike", STORY), ("drought", OTHER), ("fire", THIRD)):
        add(con, name, body(paragraphs), minutes=0)
        add(con, f"{name}-copy", body(paragraphs[:4]), minutes=5)
    add(con, "in-brief", body(["AP News in Brief at 6:04 p.m. EDT", "Port strike halts ships", *STORY[:2],
                               "Drought lifts wheat prices", *OTHER[:2], "Crews gain on wildfire", *THIRD[:2]]),
        minutes=60)
    ids = [r[0] for r in con.execute("SELECT article_id FROM articles").fetchall()]
    assign(con, ids)
    linked = {x for e in con.execute("SELECT a, b FROM story_edges WHERE 'in-brief' IN (a, b)").fetchall() for x in e}
    assert {"strike", "drought"} <= linked, "the digest matches the stories it summarises"
    expected = {frozenset({"strike", "strike-copy"}), frozenset({"drought", "drought-copy"}),
                frozenset({"fire", "fire-copy"}), frozenset({"in-brief"})}
    assert partition(story_of(con)) == expected
    rebuild(con)
    assert partition(story_of(con)) == expected


def test_an_index_built_by_an_older_method_is_rebuilt_by_the_next_load(con: duckdb.DuckDBPyConnection) -> None:
    ids = corpus(con)
    assign(con, ids)
    expected = partition(story_of(con))
    # What an older release left: other paragraph keys, wrong stories, its method number.
    con.execute("UPDATE story_paragraphs SET key = key + 1")
    con.execute("UPDATE articles SET story_id = article_id")
    con.execute("UPDATE story_index_method SET method = 1")
    add(con, "late-copy", body(STORY[:6]), minutes=300)
    assign(con, ["late-copy"])
    assert partition(story_of(con)) == {(p | {"late-copy"}) if "wire" in p else p for p in expected}
    assert con.execute("SELECT method FROM story_index_method").fetchall() == [(dedup.STORY_INDEX_METHOD,)]

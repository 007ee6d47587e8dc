"""The search page: the header's box on every page, grouped and marked results, a kind's full list, the help
shown for an empty query and the message for a bad one."""

from __future__ import annotations

from urllib.parse import quote

from flask import Flask

from tests.conftest import client_for

from .conftest import World


def _page(demo: Flask, username: str, query: str) -> tuple[int, str]:
    response = client_for(demo, username).get("/search?" + query)
    return response.status_code, response.get_data(as_text=True)


def test_the_box_is_in_the_header_of_every_page(demo: Flask) -> None:
    html = client_for(demo, "zj_head_jk").get("/workspace").get_data(as_text=True)
    header = html[html.index("<header"):html.index("</header>")]
    assert 'role="search"' in header and 'action="/search"' in header and 'name="q"' in header
    assert '<label for="search-q"' in header and 'id="search-q"' in header
    assert client_for(demo, "zj_head_jk").get("/login").status_code in (200, 302)
    anonymous = demo.test_client().get("/login").get_data(as_text=True)
    assert 'role="search"' not in anonymous


def test_results_are_grouped_by_kind_marked_and_linked(world: World, demo: Flask) -> None:
    status, html = _page(demo, "zj_supervisor", "q=" + quote("鹭岛"))
    assert status == 200
    order = [html.index(f'id="group-{kind}"') for kind in ("plans", "tasks", "milestones", "projects", "indicators",
                                                            "cases", "reports")]
    assert order == sorted(order)
    assert f'href="/tasks/{world.ids["task"]}"><mark>鹭岛</mark>试点任务' in html.replace("9.8.7 ", "")
    assert f'href="/tasks/{world.ids["task"]}#milestone-{world.ids["milestone"]}"' in html
    assert f'href="/supervision/{world.ids["case"]}"' in html
    assert f'href="/reports/{world.ids["report"]}"' in html
    assert f'href="/projects/{world.ids["project"]}"' in html
    assert f'href="/indicators/{world.ids["indicator"]}"' in html
    assert f'href="/plans/{world.ids["plan"]}"' in html


def test_a_title_with_markup_is_shown_escaped(world: World, demo: Flask) -> None:
    status, html = _page(demo, "zj_supervisor", "q=script")
    assert status == 200
    assert "&lt;<mark>script</mark>&gt;alert(1)&lt;/<mark>script</mark>&gt;" in html
    assert "<script>alert" not in html


def test_more_leads_to_the_kind_s_full_list(world: World, demo: Flask) -> None:
    status, html = _page(demo, "zj_supervisor", "q=" + quote("疾控"))
    assert status == 200
    assert f'href="/search?q={quote("疾控")}&amp;kind=tasks">更多任务</a>' in html
    status, html = _page(demo, "zj_supervisor", f"q={quote('疾控')}&kind=tasks")
    assert status == 200 and "任务（" in html and "← 全部结果" in html


def test_an_empty_query_explains_what_can_be_searched(demo: Flask) -> None:
    for query in ("", "q=", "q=%20%20"):
        status, html = _page(demo, "zj_head_jk", query)
        assert status == 200 and "可以搜索什么" in html and "督办单编号" in html


def test_nothing_found_says_so(demo: Flask) -> None:
    status, html = _page(demo, "zj_head_jk", "q=" + quote("完全不存在的内容"))
    assert status == 200 and "没有找到含“完全不存在的内容”的内容" in html


def test_a_query_too_long_is_a_message_not_a_crash(demo: Flask) -> None:
    status, html = _page(demo, "zj_head_jk", "q=" + quote("疾" * 101))
    assert status == 400 and "检索内容不能超过100个字。" in html and 'aria-invalid="true"' in html


def test_a_short_query_searches_everything_and_marks_its_words(world: World, demo: Flask) -> None:
    status, html = _page(demo, "zj_head_jk", "q=" + quote("鹭"))
    assert status == 200 and "最近的" not in html
    assert f'href="/tasks/{world.ids["task"]}"><mark>鹭</mark>岛试点任务' in html.replace("9.8.7 ", "")

"""The property manager on duty looks for last week's payment a driver disputes.

docs/guard-app.md, Pages: the audit page (操作记录 /audit) is "who changed what and when, filtered
by person or action"; every payment writes a `payment.take` audit row (docs/parking.md, *At the
exit lane*: the plate, amount, method, receipt, lane) and it is the only page that shows who took
the money and the receipt. The plate log pages back ("older" for more); the alarms page says how
many it shows of how many. The audit page lists the newest 300 rows and stops: at an estate taking
a few hundred fees a day (docs/parking.md, *Figures*: 4,270元 in a day), last Tuesday's payment
cannot be reached from the pages at all, and nothing on the page says rows were left out.
"""

from __future__ import annotations

import html as markup
import re
import sqlite3
from collections.abc import Callable
from datetime import timedelta

from gateway.runtime.gateway import Gateway
from gateway.store.accounts import create_account
from gateway.store.database import transaction
from tests.parking.conftest import make_gw  # noqa: F401  (fixture)
from tests.parking.test_api import serving, show
from tests.ui.conftest import ADMIN, log_in, password_hash

H = timedelta(hours=1)
M = timedelta(minutes=1)
DISPUTED = "苏E10000"


def test_audit_page_reaches_a_payment_older_than_the_newest_300_rows(
    make_gw: Callable[..., Gateway],  # noqa: F811
) -> None:
    """苏E10000 paid 7元 ahead at the booth (receipt WX-DISPUTED); 320 more fees were taken since.
    Filtering the audit page by payment.take, the manager expects to page back to it (or be told
    there are more); the page shows the newest 300 payments, no way to older ones, and no count."""
    with serving(make_gw(capacity=400)) as (gw, client, _):
        gw.on_worker(
            lambda c: create_account(
                c, gw.now(), "test", ADMIN[0], "王经理", "admin", password_hash(ADMIN[1])
            )
        ).result(10)
        start = gw.now() - 3 * H
        plates = [DISPUTED] + [f"苏E1{n:04d}" for n in range(1, 321)]
        for plate in plates:
            show(gw, "car-in", plate, start)

        def prepay_all(conn: sqlite3.Connection) -> None:
            for n, plate in enumerate(plates):
                at = start + H + n * timedelta(seconds=5)
                due = gw.parking.quote(conn, plate, at)["due_fen"]
                receipt = "WX-DISPUTED" if plate == DISPUTED else ""
                with transaction(conn):
                    gw.parking.prepay(conn, plate, due, "qr", receipt, "guard1", at)

        gw.on_worker(prepay_all).result(60)
        log_in(client, ADMIN)
        page = client.get("/audit", params={"action": "payment.take"})
        assert page.status_code == 200
        html = page.text
        shown = html.count("payment.take</small>")
        assert shown == 300  # what the page lists
        # The disputed payment is on the page, or the page leads to older rows / says more exist.
        reachable = "WX-DISPUTED" in html or "before=" in html or "共 321" in html or "of 321" in html
        assert reachable, f"the page lists {shown} of 321 payments; the disputed one is unreachable"
        assert "显示前 300 条，共 321 条" in html
        # The older page, as the plate log's: the 21 payments left, the disputed one the oldest.
        older = re.search(r'id="audit-older" href="([^"]+)"', html)
        assert older is not None, "no link to the older rows"
        page = client.get(markup.unescape(older.group(1)))
        assert page.status_code == 200
        assert page.text.count("payment.take</small>") == 21
        assert "WX-DISPUTED" in page.text
        assert "显示第 301–321 条，共 321 条" in page.text  # where these rows stand in the whole list
        assert 'id="audit-older"' not in page.text  # nothing older

"""An account's own notifications (the patient pages' messages): only its own, newest
first, and a read mark that only moves forward. On both backends."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from factories.world import World, make_world
from fairslot.bootstrap import Platform
from fairslot.notifications import feed
from fairslot.notifications import service as notify


def test_an_account_sees_only_its_own_messages_newest_first_and_reads_them(
    db: Session, platform: Platform
) -> None:
    world: World = make_world(db, platform)
    mine, _ = world.patient()
    theirs, _ = world.patient()
    now = world.now()
    for n, account in enumerate([mine, theirs, mine]):
        notify.to_channel(
            db,
            channel_id=world.channel.id,
            kind="waitlist_booked",
            at=now + dt.timedelta(seconds=n),
            account_id=account.id,
            payload={"n": n},
        )
    db.commit()
    found = feed.account_feed(db, channel_id=world.channel.id, account_id=mine.id)
    assert [item.payload["n"] for item in found.items] == [2, 0]
    assert found.unread == 2 and all(item.unread for item in found.items)

    newest = found.items[0].id
    feed.mark_read(db, channel_id=world.channel.id, account_id=mine.id, up_to=newest, now=now)
    db.commit()
    assert feed.unread_count(db, channel_id=world.channel.id, account_id=mine.id) == 0
    assert feed.unread_count(db, channel_id=world.channel.id, account_id=theirs.id) == 1

    # A page opened earlier (another tab) reports an older id: the mark stays.
    feed.mark_read(db, channel_id=world.channel.id, account_id=mine.id, up_to=1, now=now)
    db.commit()
    again = feed.account_feed(db, channel_id=world.channel.id, account_id=mine.id)
    assert again.unread == 0 and not any(item.unread for item in again.items)

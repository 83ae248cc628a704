from __future__ import annotations

from datetime import datetime, time

from django.contrib.syndication.views import Feed
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.feedgenerator import Atom1Feed

from .models import CaseStudy


class LatestCaseStudies(Feed[CaseStudy, None]):
    feed_type = Atom1Feed
    title = "Innovation office case studies"
    link = "/case-studies/"
    subtitle = "Anonymised case studies published by the innovation office."

    def items(self) -> QuerySet[CaseStudy]:
        return CaseStudy.objects.published().order_by("-published", "-id")[:30]

    def item_title(self, item: CaseStudy) -> str:
        return item.title

    def item_description(self, item: CaseStudy) -> str:
        return item.summary

    def item_updateddate(self, item: CaseStudy) -> datetime:
        return item.updated_at

    def item_pubdate(self, item: CaseStudy) -> datetime | None:
        if item.published is None:
            return None
        return timezone.make_aware(datetime.combine(item.published, time()))

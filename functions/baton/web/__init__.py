"""The HTML pages behind Baton's links (confirm, preferences, unsubscribe) and their forms."""

from baton.web.exceptions import InvalidForm
from baton.web.forms import (
    ChannelChoices,
    PreferencesChoice,
    TopicChoice,
    is_one_click_unsubscribe,
    parse_preferences_form,
)
from baton.web.pages import CONTENT_SECURITY_POLICY, PAGE_HEADERS, Page, mask_address, render_page

__all__ = [
    "CONTENT_SECURITY_POLICY",
    "PAGE_HEADERS",
    "ChannelChoices",
    "InvalidForm",
    "Page",
    "PreferencesChoice",
    "TopicChoice",
    "is_one_click_unsubscribe",
    "mask_address",
    "parse_preferences_form",
    "render_page",
]

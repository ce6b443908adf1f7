"""Figures that templates ask for by themselves, read through ledger.figures like every other."""

from django import template

from ledger import figures

register = template.Library()


@register.simple_tag
def challenge_progress(match):
    """{% challenge_progress match as challenge %}: donors' way toward its target, or None."""
    return figures.challenge_progress(match)

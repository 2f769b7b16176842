"""The two templates every deployment starts with."""

from __future__ import annotations

from .models import AUDIENCE_LEARNER, AUDIENCE_STAFF

EVENING_HIGH_SCHOOL = {
    "key": "evening-high-school",
    "name": "Evening blended high school",
    "audience": AUDIENCE_LEARNER,
    "profile_prompts": [
        {"key": "strengths", "label": "My strengths", "hint": "What are you good at?"},
        {"key": "challenges", "label": "My challenges", "hint": "What gets in the way?"},
        {"key": "interests", "label": "My interests", "hint": ""},
        {"key": "aspirations", "label": "My goals for after graduation", "hint": ""},
        {
            "key": "work_hours",
            "label": "Work hours",
            "hint": "When you work, so check-ins can fit around it.",
        },
        {"key": "childcare", "label": "Childcare", "hint": "Anything staff should plan around."},
        {"key": "transport", "label": "Transport", "hint": "How you get to class."},
        {"key": "learning_preferences", "label": "How I learn best", "hint": ""},
    ],
    "goal_domains": [
        {"key": "academic", "label": "Academic"},
        {"key": "career", "label": "Career"},
        {"key": "personal", "label": "Personal"},
    ],
    "goals_required": 2,
    "reflection_prompts": [
        {
            "key": "mid_year",
            "stage": "mid_year",
            "label": "Halfway through the year: what is working, and what will you change?",
        },
        {
            "key": "end_of_year",
            "stage": "end_of_year",
            "label": "Looking back on the year: what are you proudest of, and what comes next?",
        },
    ],
    "checkin_cadence_days": 21,
}

TEACHER_PROFESSIONAL_GROWTH = {
    "key": "teacher-professional-growth",
    "name": "Teacher professional growth",
    "audience": AUDIENCE_STAFF,
    "profile_prompts": [
        {"key": "strengths", "label": "Strengths in my practice", "hint": ""},
        {"key": "challenges", "label": "Areas I want to grow", "hint": ""},
        {"key": "interests", "label": "Professional interests", "hint": ""},
        {"key": "aspirations", "label": "Where I want my career to go", "hint": ""},
        {"key": "constraints", "label": "Time and schedule constraints", "hint": ""},
        {"key": "learning_preferences", "label": "How I prefer to learn", "hint": ""},
    ],
    "goal_domains": [
        {"key": "professional_practice", "label": "Professional practice"},
        {"key": "career", "label": "Career"},
        {"key": "personal", "label": "Personal"},
    ],
    "goals_required": 2,
    "reflection_prompts": [
        {
            "key": "mid_year",
            "stage": "mid_year",
            "label": "Mid-year: what progress have you seen in your classroom?",
        },
        {"key": "eoy_successes", "stage": "end_of_year", "label": "Successes this year"},
        {"key": "eoy_not_working", "stage": "end_of_year", "label": "What isn't working"},
        {"key": "eoy_next_focus", "stage": "end_of_year", "label": "Next year's focus"},
    ],
    "checkin_cadence_days": 45,
}

DEFAULT_TEMPLATES = (EVENING_HIGH_SCHOOL, TEACHER_PROFESSIONAL_GROWTH)

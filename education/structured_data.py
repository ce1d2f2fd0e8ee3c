"""JSON-LD for search engines: MedicalWebPage, MedicalProcedure and FAQPage.

https://schema.org/MedicalWebPage, https://schema.org/FAQPage
"""

from django.conf import settings

from .markdown import plain_text


def _absolute(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def _reviewer(page) -> dict | None:
    if not page.reviewed_by:
        return None
    person = {"@type": "Person", "name": page.reviewed_by.name}
    if page.reviewed_by.credentials:
        person["honorificSuffix"] = page.reviewed_by.credentials
    if page.reviewed_by.role:
        person["jobTitle"] = page.reviewed_by.role
    return person


def _reviewed(page, data: dict) -> dict:
    if reviewer := _reviewer(page):
        data["reviewedBy"] = reviewer
    if page.last_reviewed:
        data["lastReviewed"] = page.last_reviewed.isoformat()
    return data


def treatment_page(treatment) -> dict:
    procedure = {
        "@type": "MedicalProcedure",
        "name": treatment.name,
        "description": treatment.summary,
    }
    if treatment.other_names_list:
        procedure["alternateName"] = treatment.other_names_list
    return _reviewed(
        treatment,
        {
            "@context": "https://schema.org",
            "@type": "MedicalWebPage",
            "name": treatment.name,
            "url": _absolute(treatment.get_absolute_url()),
            "description": treatment.summary,
            "about": procedure,
            "medicalAudience": {"@type": "MedicalAudience", "audienceType": "Patient"},
            "dateModified": treatment.updated_at.isoformat(),
        },
    )


def article_page(article) -> dict:
    data = {
        "@context": "https://schema.org",
        "@type": "MedicalWebPage",
        "name": article.title,
        "headline": article.title,
        "url": _absolute(article.get_absolute_url()),
        "description": article.summary,
        "medicalAudience": {"@type": "MedicalAudience", "audienceType": "Patient"},
        "dateModified": article.updated_at.isoformat(),
    }
    if article.published_at:
        data["datePublished"] = article.published_at.isoformat()
    if article.author:
        data["author"] = {"@type": "Person", "name": article.author.name}
    if article.treatment:
        data["about"] = {"@type": "MedicalProcedure", "name": article.treatment.name}
    return _reviewed(article, data)


def faq_page(faqs) -> dict:
    return {
        "@context": "https://schema.org",
        "@type": "FAQPage",
        "mainEntity": [
            {
                "@type": "Question",
                "name": faq.question,
                "acceptedAnswer": {"@type": "Answer", "text": plain_text(faq.answer_html)},
            }
            for faq in faqs
        ],
    }

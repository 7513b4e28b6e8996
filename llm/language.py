"""Which language the customer writes in: "pt" (the default for our users) or "en"."""

from __future__ import annotations

import re
from collections.abc import Iterable

# Words common in one language and not the other ("a", "do", "no" and "me" are both, so neither).
_PT_WORDS = set(
    "você voce vocês voces não nao sim obrigado obrigada olá ola oi bom dia boa tarde noite quero queria "
    "preço preco valor quanto pedido entrega prazo produto para com uma um é está estou tá pra por favor "
    "meu minha que de da dos das na tem têm vou já ainda mas também tambem o os e em foi ao se mais muito "
    "como até ate chegou compra bem antes ele ela isso esse essa aqui agora".split()
)
_EN_WORDS = set(
    "you your yes not thanks thank hello hi good morning afternoon want would price order delivery "
    "product the an is are am i my to for with please what when where how can could does have has "
    "will just still but also of in on it this that and was be we they get from at there any if or so "
    "about who why now all buy help out new tell dont don't what's that's thnx flight".split()
)


def detect_language(texts: Iterable[str]) -> str:
    """'pt' or 'en' from the customer's words; pt-BR is the default for our users."""
    pt = en = 0
    for text in texts:
        for word in re.findall(r"[a-zà-ú']+", (text or "").lower()):
            pt += word in _PT_WORDS
            en += word in _EN_WORDS
        if re.search(r"[ãõçáéíóúâê]", (text or "").lower()):
            pt += 1
    return "en" if en > pt else "pt"

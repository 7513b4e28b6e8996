"""Does a model-written reply read like something an attendant would send?

Tiny models (the default SmolLM2-135M above all, in Portuguese) write fluent-looking nonsense:
made-up words, the prompt read back ("três respostas que o atendente pode enviar"), replies
about something else. The hard rules (language, length, no echo, no invented numbers) let
those through, and one nonsense suggestion is enough for an attendant to stop reading them,
so a model reply is offered only when it passes all of these checks; otherwise our templates
fill its place (see ``reply_select.finalize_with_sources``):

- every word is known: our vocabulary below, the conversation, the quick replies and our
  templates (a long reply may have one unknown word in eight: names, product words);
- it speaks to the customer (a service word such as "posso", "você", "sorry", "we");
- it is about this conversation: it shares a content word with it or with the replies we
  would write for the detected intent;
- it does not talk about the task itself (attendant, summary, example, JSON) and is not a
  refusal ("não posso ajudar com isso").

The word lists are written by us from general knowledge of both languages; nothing is mined
from any data set. Words are compared normalised (lower case, no accents).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

_COMMON = {
    "pt": """
a o as os um uma uns umas de do da dos das no na nos nas em ao aos pelo pela pelos pelas por para pra pro
com sem sobre ate entre apos desde contra e ou mas porem entao pois porque que se como quando onde quanto
quanta quantos quantas qual quais quem ja ainda tambem so apenas sempre nunca hoje amanha ontem agora logo
depois antes cedo tarde noite dia dias semana semanas mes meses ano hora horas horario horarios minuto
minutos momento prazo prazos data datas vez vezes aqui ai la isso isto esse essa esses essas este esta
estes estas aquele aquela tudo todo toda todos todas nada algo alguem algum alguma alguns algumas outro
outra outros outras mesmo mesma muito muita muitos muitas pouco pouca mais menos bem mal melhor pior bom
boa bons boas otimo otima certo certa claro sim nao talvez eu voce voces ele ela eles elas nos me te se
lhe lhes meu minha meus minhas seu sua seus suas nosso nossa nossos nossas teu tua dele dela deles
sou e esta estou estamos estao era foi fui foram ser sendo sido estar estava tenho tem temos tem tinha
teve ter tendo ha houve haver vai vou vamos vao ir indo fica fico ficamos ficar ficou faz faco fazemos
fazer feito feita fiz pode posso podemos podem poder poderia poderiamos consegue consigo conseguimos
conseguir deve devemos precisa preciso precisamos precisar quer quero queremos querer queria gostaria
gostariamos sei sabe saber entendo entendi entendemos entender peco pedimos pedir pedimos agradeco
agradecemos agradecer obrigado obrigada obrigados valeu oi ola ei bom dia boa tarde noite tchau ate
logo abraco abracos atenciosamente desculpa desculpe desculpas perdao lamento lamentamos sinto sentimos
muito sentir infelizmente felizmente favor gentileza por favor disposicao ajuda ajudar ajudo ajudamos
ajudando atender atendimento atendo resolver resolvemos resolvido resolvida resolvo solucao solucionar
problema problemas verificar verifico verificamos verificando verificado confirmar confirmo confirmamos
confirmado confirmada confirmacao consultar consulto consultamos checar checo olhar olho olhamos ver
vejo vemos retornar retorno retornamos responder respondo respondemos resposta avisar aviso avisamos
informar informo informamos informacao informacoes detalhe detalhes enviar envio enviamos enviado
enviada mandar mando mandamos mandei receber recebeu recebi recebemos recebido recebida chegar chegou
chega chegue chegando entrega entregas entregar entregue entregamos entregues entregador transportadora
correios frete rastreio rastreamento codigo status andamento caminho saiu enviar pedido pedidos compra
compras comprar comprou comprei produto produtos item itens mercadoria encomenda pacote embalagem loja
site estoque disponivel disponiveis disponibilidade opcao opcoes modelo modelos cor cores tamanho
tamanhos unidade unidades preco precos valor valores custo desconto promocao oferta pagamento pagamentos
pagar pago paga pix cartao boleto parcela parcelas parcelar nota fiscal troca trocar trocamos
devolucao devolver reembolso estorno cancelar cancelo cancelamos cancelado cancelada cancelamento
garantia defeito defeitos conserto consertar tecnico assistencia suporte funcionar funciona funcionando
instalar instalacao configurar configuracao aparelho equipamento sistema acesso senha conta cadastro
agenda agendar agendamos agendado agendada agendamento marcar marcamos marcado marcada reserva reservar
consulta visita servico servicos cliente contato numero endereco nome mensagem mensagens foto fotos
video pedido transtorno atraso atrasado atrasada demora demorou rapido rapida logo breve prioridade
urgente importante possivel impossivel novo nova novos novas primeiro primeira ultimo ultima proximo
proxima grande pequeno pequena satisfeito satisfeita feliz contente fico ficamos felizes alegria
prazer parabens elogio tranquilo tranquila combinado perfeito perfeita excelente maravilha legal
entendido certeza duvida duvidas questao pergunta perguntas caso situacao motivo forma jeito maneira
melhorar melhoria experiencia qualidade confianca espera esperar aguardar aguardo aguarde aguardamos
aguardando paciencia compreensao retorno juntos pessoal equipe empresa time vendas vendedor gerente
quando seguinte segue seguir sigo continuar continue voltar volte chamar chame falar falo falamos fale
escrever explicar explico mostrar mostro acompanhar acompanho acompanhamos passar passo passamos
ligar ligo ligamos levar trazer buscar retirar retirada tentar tente tentei tentamos usar uso usando
abrir abra fechar feche dar damos dou deu tirar manter garantir garanto garantimos cuidar cuido
preocupacao preocupe chateado chateada chato incomodo entendemos imagino compreendo lembrar lembrete
mesmo mesma retornarei responderei verificarei enviarei avisarei assim breve brevemente ocorreu
aconteceu acontecer houve erro engano corrigir corrigimos corrigido ajuste ajustar custa custam sai
ok vc vcs sera serao tiver tivermos email mail feira segunda terca quarta quinta sexta sabado domingo
manha whatsapp zap link
saem fica ficam vale valem inclui incluso gratis frete
""",
    "en": """
a an the of to in on at by for from with without about into over under after before between during
and or but so if then than because as that this these those there here it its is are was were be been
being am do does did done doing have has had having will would shall should can could may might must
not no yes yeah ok okay sure of course please thanks thank you your yours we us our ours i me my mine
they them their he she him her his what which who whom whose when where why how all any some each
every both either more most less least many much few little lot lots very really just only also too
still already yet soon now today tomorrow yesterday later again once right away asap moment minute
minutes hour hours day days week weeks month time times date dates first last next new old good great
fine nice happy glad sorry apologies apologize apologise unfortunately hello hi hey morning afternoon
evening welcome bye regards cheers help helping helped assist assistance support check checking checked
confirm confirming confirmed look looking looked see seeing find found let know get getting got give
giving send sending sent receive received arrive arrived arriving deliver delivered delivery shipping
shipped shipment ship tracking track number order orders ordered purchase purchased buy bought product
products item items package parcel store shop website online stock available availability option
options model size color colour price prices pricing cost costs discount offer payment pay paid card
invoice receipt refund refunded return returned exchange replace replacement cancel cancelled canceled
cancellation warranty issue issues problem problems fix fixed fixing work works working broken error
account password login access app update install setup settings device service services appointment
appointments booking book booked schedule scheduled reschedule slot available calendar visit meeting
call contact email phone address name message details detail information info question questions
answer reply update updates status progress soon possible priority urgent inconvenience delay delayed
late wait waiting patience understand understanding understood happy glad pleasure anything something
everything nothing else further more need needs needed want wants wanted like would love feel free
reach out back touch team manager we'll i'll you're we're it's that's let's don't can't won't i'm
make sure sort solve solved resolve resolved handle take care follow keep share tell ask asked
explain show try tried use using open close closed take taking bring pick pickup collect credit
charge charged fee fees account transfer bank banking balance transaction transactions statement
flight flights trip travel seat ticket booking baggage bag bags airport gate airline
monday tuesday wednesday thursday friday saturday sunday weekend email mail you'll you've i've we've
haven't hasn't isn't aren't wasn't didn't doesn't won't ships shipping arrives arriving apologies
my me
""",
}
# A reply to a customer speaks to them: at least one of these.
_SERVICE = {
    "pt": set(
        "voce voces te lhe seu sua seus suas posso podemos vou vamos estou estamos fico ficamos obrigado "
        "obrigada desculpe desculpa sinto lamento lamentamos claro oi ola favor certo combinado agradeco "
        "agradecemos pode aguarde consigo conseguimos sim temos pronto ok".split()
    ),
    "en": set(
        "you your you'll you're i i'll i'm i've me my we we'll we're we've us our sorry apologies thanks thank please "
        "sure hi hello happy glad let's let yes".split()
    ),
}
# Words about the task, not the customer: the prompt read back.
_TASK_WORDS = set(
    "atendente atendentes resumo resumos tarefa exemplos sugestoes sugira attendant summary task examples "
    "suggestions json string prompt assistant assistente".split()
)
# Offers of help fit any conversation.
_ANY_TOPIC = set("resolver resolvemos ajudar verificar resolve help check sort".split())
# Frequent words that say nothing about the topic.
_STOP = set(
    "para pelo pela pelos pelas sobre como quando onde isso esse essa este esta voce seu sua muito "
    "mais ainda tambem agora hoje todo toda tudo qual quais posso pode vamos estou fico obrigado "
    "about with from that this there here your yours what when where which would could should will "
    "have been just also very really please thanks thank sorry today know".split()
)
# A model refusing or speaking as a model: never something an attendant sends.
_REFUSAL = re.compile(
    r"\b(nao (posso|consigo|podemos|conseguimos)( te| lhe| voce)? ajudar|nao e possivel ajudar|"
    r"(can'?t|cannot|won'?t be able to) (help|assist)|(unable|not able) to (help|assist)|"
    r"as an ai|language model|modelo de linguagem|sou (um|uma) (ia|assistente|modelo))\b"
)
_WORD = re.compile(r"[a-z']+")


def normalise_words(text: str) -> list[str]:
    text = re.sub(r"[’‘´ʼ`]", "'", text.lower())
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    return _WORD.findall(re.sub(r"\d+[a-z]*", " ", text))  # "10h", "3x": numbers are checked elsewhere


def words_of(texts: Iterable[str]) -> set[str]:
    return {w for text in texts for w in normalise_words(text)}


def vocabulary(lang: str, texts: Iterable[str]) -> set[str]:
    """Words we accept in a reply: the common list plus every word of ``texts``."""
    return set(_COMMON[lang].split()) | _SERVICE[lang] | words_of(texts)


def reads_well(reply: str, lang: str, known: set[str], topic: set[str]) -> bool:
    """True when a model-written ``reply`` is fit to offer.

    ``known`` comes from ``vocabulary`` (conversation, quick replies, our templates);
    ``topic`` holds the words of the conversation and of our replies for its intent.
    """
    words = normalise_words(reply)
    if len(words) < 2 or any(w in _TASK_WORDS for w in words) or _REFUSAL.search(" ".join(words)):
        return False
    unknown = [w for w in words if w not in known and w.strip("'") not in known]
    if len(unknown) > len(words) // 8:
        return False
    if not any(w in _SERVICE[lang] for w in words):
        return False
    content = {w for w in words if len(w) > 3 and w not in _STOP}
    return bool(content & (topic | _ANY_TOPIC))


# Words about the task that a summary of the conversation never needs ("atendente" may appear).
_SUMMARY_TASK_WORDS = _TASK_WORDS - {"atendente", "atendentes", "attendant"}


def summary_reads_well(summary: str, lang: str, known: set[str], topic: set[str]) -> bool:
    """True when a model-written one-line ``summary`` is fit to show: the checks of
    ``reads_well`` that apply to a sentence about the customer rather than to them (no
    service word needed). ``topic`` holds the conversation's words."""
    words = normalise_words(summary)
    if len(words) < 3 or any(w in _SUMMARY_TASK_WORDS for w in words) or _REFUSAL.search(" ".join(words)):
        return False
    unknown = [w for w in words if w not in known and w.strip("'") not in known]
    if len(unknown) > len(words) // 8:
        return False
    content = {w for w in words if len(w) > 3 and w not in _STOP}
    return bool(content & topic)

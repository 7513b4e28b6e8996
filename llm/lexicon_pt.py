"""Hand-written pt-BR phrase lists for the label fallback and the label features.

Written by the Conversa team from general knowledge of how Brazilian customers write to
shops and support desks (WhatsApp, reviews, e-mails). Nothing here is copied or mined from
any data set: the evaluation sets in ``shared/eval`` are non-commercial and only measure it.

Phrases are matched on normalised text (lower case, accents and punctuation removed), on
word boundaries; a trailing ``*`` matches any word ending (``atras*`` → atraso, atrasou…).
Weights are rough strengths chosen by hand (1 = clear, 2 = very clear), not fitted.
"""

# Sentiment: positive weight = positive, negative weight = negative.
SENTIMENT = {
    # greetings are not opinions (weight 0 hides the "bom"/"boa" inside them)
    "bom dia": 0, "boa tarde": 0, "boa noite": 0, "boa sorte": 0, "bom fim de semana": 0,
    # positive
    "bom": 1, "boa": 0.8, "muito bom": 1.5, "muito boa": 1.5, "otimo": 1.5, "otima": 1.5,
    "excelente": 2, "perfeito": 2, "perfeita": 2, "maravilh*": 2, "sensaciona*": 2,
    "incrivel": 1.5, "fantastic*": 2, "show": 1, "top": 1, "nota 10": 2, "nota dez": 2,
    "10/10": 2, "gostei": 1.2, "gostei muito": 2, "adorei": 2, "amei": 2, "amo": 1.5,
    "recomendo": 1.5, "super recomendo": 2, "recomendo a todos": 2, "parabens": 1.5,
    "satisfeit*": 1.5, "muito satisfeit*": 2, "feliz": 1.2, "contente": 1.2,
    "obrigad*": 0.6, "agradeco": 0.8, "grato": 0.8, "grata": 0.8,
    "rapid*": 1, "rapidez": 1.2, "agil": 1, "agilidade": 1.2, "eficien*": 1.2,
    "antes do prazo": 1.5, "dentro do prazo": 1.2, "no prazo": 1, "bem antes": 1,
    "chegou certinho": 1.5, "veio certinho": 1.5, "certinho": 1, "tudo certo": 1.5,
    "tudo ok": 1.2, "tudo perfeito": 2, "conforme anunciado": 1.2, "conforme o anuncio": 1.2,
    "conforme descrito": 1.2, "como descrito": 1, "como anunciado": 1, "de acordo com": 0.6,
    "atendeu": 1, "atende": 0.8, "superou": 1.5, "qualidade": 0.4, "boa qualidade": 1.5,
    "otima qualidade": 2, "bem embalado": 1.2, "bem embalada": 1.2, "bem feito": 1,
    "lindo": 1.2, "linda": 1.2, "bonito": 1, "bonita": 1, "confortavel": 1, "confiavel": 1.2,
    "confianca": 1, "seguro": 0.6, "honest*": 1, "atencios*": 1.2, "educad*": 1,
    "prestativ*": 1.2, "resolveu": 1, "resolvido": 1, "funciona bem": 1.5,
    "funcionando": 0.6, "vale a pena": 1.5, "custo beneficio": 1, "barato": 0.6,
    "compraria novamente": 2, "compraria de novo": 2, "voltarei a comprar": 2,
    "comprarei novamente": 2, "voltaria a comprar": 2, "melhor": 0.8, "ameiii": 2,
    "valeu": 0.6, "legal": 1, "massa": 0.8, "deu bom": 1.2, "sucesso": 1, "fiel": 0.6,
    "exatamente": 0.6, "pontual*": 1.2, "impecavel": 2, "caprich*": 1.2,
    # negative
    "ruim": -1.5, "muito ruim": -2, "pessim*": -2, "horrivel": -2, "horroroso": -2,
    "terrivel": -2, "lixo": -2, "porcaria": -2, "vergonha": -2, "absurdo": -2,
    "ridicul*": -2, "descaso": -2, "desrespeito": -2, "palhacada": -2, "golpe": -2,
    "fraude": -2, "engan*": -1.5, "propaganda enganosa": -2, "decepc*": -1.8,
    "insatisfeit*": -1.8, "chatead*": -1.5, "frustrad*": -1.5, "irritad*": -1.5,
    "raiva": -1.5, "triste": -1.2, "lamentavel": -1.8, "infelizmente": -1.2,
    "nao gostei": -1.5, "nao recomendo": -2, "nunca mais": -1.8, "nao compro mais": -2,
    "nao compre": -2, "nao comprem": -2, "problema": -1, "problemas": -1,
    "reclama*": -1.2, "defeito": -1.5, "defeituos*": -1.5, "com defeito": -1.8,
    "quebrad*": -1.8, "quebrou": -1.8, "danificad*": -1.8, "avariad*": -1.8,
    "amassad*": -1.2, "arranhad*": -1.2, "riscad*": -1, "rasgad*": -1.2, "manchad*": -1.2,
    "vazando": -1.2, "estragad*": -1.8, "falsificad*": -2, "pirata": -1.5,
    "errad*": -1.2, "trocad*": -1, "diferente": -1, "outro produto": -1.2,
    "outra cor": -1, "faltando": -1.5, "faltou": -1.5, "falta": -0.8, "incomplet*": -1.5,
    "veio apenas": -1.2, "veio so": -1.2, "so veio": -1.2, "apenas um": -0.6,
    "nao veio": -1.5, "nao recebi": -2, "nao chegou": -1.8, "ainda nao chegou": -2,
    "ainda nao recebi": -2, "nao foi entregue": -2, "nunca chegou": -2,
    "nao entregaram": -2, "nao entregou": -2, "nao funciona": -1.8, "parou de funcionar": -1.8,
    "nao liga": -1.5, "atras*": -1.2, "demor*": -1, "muito demorad*": -1.5,
    "fora do prazo": -1.5, "depois do prazo": -1.2, "prazo vencido": -1.5,
    "aguardando": -0.8, "esperando": -0.8, "ate agora": -0.8, "ate hoje": -0.8,
    "ate o momento": -0.8, "sem resposta": -1.5, "nenhuma resposta": -1.5,
    "nao responde*": -1.5, "nao respondem": -1.5, "nao tive retorno": -1.5,
    "sem retorno": -1.5, "nenhum retorno": -1.5, "nao resolve*": -1.5,
    "descontent*": -1.5, "prejuizo": -1.5, "fraco": -1, "fraca": -1, "fragil": -1,
    "frageis": -1, "pior": -1.5, "mal embalad*": -1.5, "mal feito": -1.5, "mal acabad*": -1.5,
    "pequeno demais": -1, "muito pequeno": -0.8, "nao serve": -1.5, "nao serviu": -1.5,
    "nao condiz": -1.5, "nao corresponde": -1.5, "nao e o que": -1.2, "nao era o que": -1.2,
    "devolv*": -1, "devolucao": -1, "reembolso": -1, "estorno": -1, "cancel*": -0.8,
    "dinheiro de volta": -1.5, "arrependid*": -1.5, "desist*": -1, "jamais": -1,
    "caro": -0.6, "cara demais": -1, "muito caro": -1, "pessimo atendimento": -2,
    "ma qualidade": -2, "baixa qualidade": -2, "qualidade ruim": -2, "sem qualidade": -2,
    "porcaria de": -2, "nao presta": -2, "uma droga": -2, "inutil": -1.8,
}

# Hedges and contrasts: a text with these tends to be mixed or neutral.
MIXED = {
    "mas": 1, "porem": 1, "entretanto": 1, "contudo": 1, "no entanto": 1, "todavia": 1,
    "so que": 1, "apesar": 1, "embora": 1, "mesmo assim": 0.8, "razoavel": 1.5,
    "mais ou menos": 1.5, "regular": 1.2, "mediano": 1.5, "mediana": 1.5, "ok": 0.6,
    "normal": 0.8, "simples": 0.6, "bonzinho": 1.2, "boazinha": 1.2, "nada demais": 1.5,
    "nada de mais": 1.5, "poderia ser melhor": 1.5, "poderia": 0.8, "deveria": 0.8,
    "esperava mais": 1.5, "deixa a desejar": 1.5, "deixou a desejar": 1.5,
    "um pouco": 0.8, "meio": 0.5, "razoavelmente": 1, "aceitavel": 1.2, "da pro gasto": 1.5,
    "dentro do esperado": 0.8, "nem tanto": 1, "achei pequeno": 1, "menor do que": 1,
    "mais fino": 0.8, "mais fina": 0.8, "nao e tao": 1, "nao e muito": 1, "apenas": 0.4,
    "por enquanto": 0.8, "ainda nao usei": 1.2, "ainda nao testei": 1.2, "vamos ver": 1,
}

NEGATORS = ["nao", "nem", "nunca", "jamais", "sem", "nada"]
INTENSIFIERS = ["muito", "muita", "super", "bem", "extremamente", "bastante", "demais", "tao"]

# Intents. Olist-style reviews that only praise fall to "other".
INTENT = {
    "order_status": {
        "nao recebi": 2, "ainda nao recebi": 2.5, "nao chegou": 2, "ainda nao chegou": 2.5,
        "nao foi entregue": 2, "nunca chegou": 2, "nao entregaram": 2, "nao entregou": 2,
        "cade": 1.5, "onde esta": 1.5, "onde ta": 1.5, "rastreio": 2, "rastreamento": 2,
        "codigo de rastreio": 2.5, "rastrear": 2, "previsao de entrega": 2, "prazo": 0.8,
        "atras*": 1.5, "demor*": 1, "aguardando": 1.2, "esperando": 1, "quando chega": 2,
        "quando vai chegar": 2, "vai chegar": 1.2, "status do pedido": 2.5,
        "meu pedido": 1, "minha encomenda": 1.2, "encomenda": 0.8, "entrega": 0.6,
        "correios": 0.8, "transportadora": 1, "enviado": 0.6, "despachad*": 1,
        "saiu para entrega": 2, "fora do prazo": 1.5, "prazo de entrega": 1.5, "ate agora": 0.8,
        "ate hoje": 0.8, "ate o momento": 0.8, "ja passou": 1, "nada do produto": 2,
    },
    "complaint": {
        "defeito": 1.5, "com defeito": 2, "quebrad*": 2, "danificad*": 2, "avariad*": 2,
        "errad*": 1.5, "diferente": 1.5, "outro produto": 1.5, "outra cor": 1.5,
        "faltando": 2, "faltou": 2, "veio apenas": 2, "veio so": 2, "so veio": 2,
        "incomplet*": 2, "falsificad*": 2, "pirata": 1.5, "ma qualidade": 2,
        "baixa qualidade": 2, "qualidade ruim": 2, "pessim*": 1.2, "horrivel": 1.2,
        "ruim": 1, "reclama*": 1.5, "absurdo": 1.2, "descaso": 1.5, "engan*": 1.5,
        "propaganda enganosa": 2, "nao condiz": 2, "nao corresponde": 2, "nao e o que": 1.5,
        "decepc*": 1.2, "insatisfeit*": 1.2, "nao gostei": 1, "nao recomendo": 1.2,
        "sem resposta": 1.2, "nenhuma resposta": 1.2, "nao responde*": 1.2,
        "amassad*": 1.5, "arranhad*": 1.5, "rasgad*": 1.5, "manchad*": 1.5,
        "estragad*": 1.5, "vazando": 1.5, "mal embalad*": 1.5, "fraco": 0.8, "fragil": 0.8,
        "nao serve": 1.2, "nao serviu": 1.2, "pequeno demais": 1, "cobrad*": 1,
        "cobranca indevida": 2, "cobraram": 1.2, "problema": 0.8, "pessimo atendimento": 2,
    },
    "cancellation": {
        # a cancelling verb outweighs the thing cancelled ("cancelar a consulta")
        "cancelar": 3.5, "cancelamento": 3.5, "cancelei": 3.5, "cancelad*": 2.5,
        "desmarcar": 3.5,
        "devolver": 2.5, "devolucao": 2.5, "devolvi": 2.5, "devolvido": 2, "devolvid*": 2,
        "reembolso": 2.5, "reembols*": 2.5, "estorno": 2.5, "estornar": 2.5, "estornad*": 2.5,
        "dinheiro de volta": 2.5, "meu dinheiro": 1.5, "troca": 1.5, "trocar": 1.5,
        "desist*": 2, "arrependimento": 2, "nao quero mais": 2.5, "quero meu dinheiro": 2.5,
        "ressarci*": 2, "solicitei a troca": 2, "encerrar": 1.5, "retirar meu": 1,
    },
    "purchase_pricing": {
        "quanto custa": 3, "quanto e": 1.5, "qual o valor": 2.5, "qual valor": 2,
        "preco": 1.5, "valor": 1, "orcamento": 2.5, "quero comprar": 2.5,
        "gostaria de comprar": 2.5, "tem disponivel": 2, "tem em estoque": 2.5,
        "estoque": 1.2, "desconto": 1.5, "promocao": 1.5, "parcel*": 1.5, "a vista": 1.2,
        "pix": 1, "boleto": 1, "forma de pagamento": 2, "formas de pagamento": 2,
        "cartao de credito": 1, "catalogo": 1.5, "tabela de precos": 2.5, "cupom": 1.2,
        "frete": 0.8, "quanto fica": 2.5, "quanto sai": 2.5, "vcs tem": 1.2, "voces tem": 1.2,
        "ainda tem": 1.2, "vende": 1, "vendem": 1.2, "tamanhos": 0.8, "disponivel": 1,
    },
    "support_technical": {
        "nao funciona": 2, "parou de funcionar": 2.5, "nao liga": 2, "nao conecta": 2.5,
        "nao consigo": 1.5, "erro": 1.5, "travando": 2, "trava": 1.5, "bug": 2,
        "como instalar": 2.5, "como configur*": 2.5, "como usar": 2, "como funciona": 1.5,
        "instalar": 1.5, "instalacao": 1.5, "configur*": 1.5, "senha": 2, "login": 2,
        "acessar": 1.5, "acesso": 1.2, "aplicativo": 1.2, "app": 1, "site": 0.6,
        "bloquead*": 1.5, "atualiza*": 1, "manual": 1, "bluetooth": 1.5, "wifi": 1.5,
        "carregar": 0.8, "carrega": 0.8, "bateria": 1, "tela": 0.8, "suporte": 1.5,
        "assistencia tecnica": 2.5, "garantia": 1.2, "incompativel": 1.5, "compativel": 1,
        "nao reconhece": 2, "desliga sozinho": 2.5, "esquentando": 1.5, "tutorial": 2,
    },
    "scheduling": {
        "agendar": 3, "agendamento": 3, "agenda": 1.5, "marcar": 2, "marcar um horario": 3,
        "horario": 1.5, "horarios": 1.5, "remarcar": 3, "reagendar": 3, "reservar": 2.5,
        "reserva": 2, "consulta": 1.5, "visita": 1.5, "disponibilidade": 1.5,
        "que horas": 1.5, "amanha": 0.8, "semana que vem": 1, "segunda feira": 0.8,
        "vaga": 1, "tem vaga": 2.5, "encaixe": 2, "atendimento presencial": 1.5,
    },
    "greeting_smalltalk": {
        "oi": 2, "oii": 2, "ola": 2, "bom dia": 2, "boa tarde": 2, "boa noite": 2,
        "tudo bem": 1.5, "tudo bom": 1.5, "como vai": 1.5, "e ai": 1.5, "opa": 1.5,
        "tchau": 2, "ate logo": 2, "ate mais": 2, "obrigad*": 1, "valeu": 1, "blz": 1,
        "beleza": 1, "kkk*": 1, "hahaha*": 1, "voce e um robo": 2.5, "quem e voce": 2,
    },
}

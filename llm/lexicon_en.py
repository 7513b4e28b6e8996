"""Hand-written English phrase lists for the label fallback and the label features.

Written by the Conversa team from general knowledge of customer-service language. Nothing
here is copied or mined from any data set; the evaluation sets only measure it. Same format
as ``lexicon_pt``: normalised text, word boundaries, trailing ``*`` = any ending.
"""

SENTIMENT = {
    # greetings are not opinions (weight 0 hides the "good" inside them)
    "good morning": 0, "good afternoon": 0, "good evening": 0, "good night": 0,
    # positive
    "good": 1, "very good": 1.5, "great": 1.5, "excellent": 2, "perfect": 2, "amazing": 2,
    "awesome": 2, "fantastic": 2, "wonderful": 2, "love": 1.5, "loved": 1.5, "love it": 2,
    "like it": 1, "nice": 1, "cool": 0.8, "best": 1.2, "happy": 1.2, "glad": 1.2,
    "pleased": 1.2, "satisfied": 1.2, "thank*": 1.2, "thx": 1, "thanks so much": 2,
    "appreciate*": 1.5, "kudos": 1.5, "props": 1, "recommend": 1.2, "fast": 0.8, "quick": 0.8,
    "on time": 1, "early": 0.8, "smooth": 1, "helpful": 1.5, "friendly": 1.2, "kind": 1,
    "courteous": 1.5, "professional": 1, "impressed": 1.5, "enjoy*": 1.2, "fun": 1,
    "beautiful": 1.2, "comfortable": 1, "reliable": 1, "well done": 1.5, "yay": 1.5,
    "woohoo": 1.5, "rock": 1, "rocks": 1.5, "superb": 2, "outstanding": 2, "brilliant": 2,
    "favorite": 1.2, "favourite": 1.2, "worth it": 1.5, "exceeded": 1.5, "resolved": 1,
    "got it sorted": 1.2, "made my day": 2, "lol": 0.3, ":)": 1, ":-)": 1,
    # negative
    "bad": -1.5, "very bad": -2, "terrible": -2, "horrible": -2, "awful": -2, "worst": -2,
    "poor": -1.2, "hate": -1.8, "hated": -1.8, "sucks": -2, "suck": -1.5, "disappoint*": -1.8,
    "frustrat*": -1.8, "annoy*": -1.5, "angry": -1.8, "upset": -1.5, "furious": -2,
    "ridiculous": -2, "unacceptable": -2, "pathetic": -2, "useless": -2, "rude": -1.8,
    "unhelpful": -1.8, "incompetent": -2, "joke": -1, "shame": -1.5, "fail": -1.5,
    "failed": -1.2, "fails": -1.5, "failure": -1.5, "problem": -1, "problems": -1,
    "issue": -0.8, "issues": -0.8, "complain*": -1.2, "delay*": -1.2, "late": -1,
    "cancelled": -1.2, "canceled": -1.2, "cancel*": -0.8, "stuck": -1.2, "stranded": -1.8,
    "waiting": -0.8, "still waiting": -1.5, "on hold": -1.2, "hold for": -1, "hours": -0.5,
    "lost": -1.2, "missing": -1.2, "broken": -1.5, "damaged": -1.5, "wrong": -1.2,
    "never": -0.8, "no one": -1, "nobody": -1, "not working": -1.5, "doesn't work": -1.5,
    "doesnt work": -1.5, "won't": -0.5, "can't": -0.5, "cant": -0.5, "unable": -0.8,
    "charged twice": -1.5, "overbooked": -1.5, "miss*": -0.8, "refund": -0.8, "worse": -1.5,
    "mess": -1.5, "nightmare": -2, "hell": -1.5, "wtf": -2, "seriously": -0.8,
    "again": -0.3, "no response": -1.5, "not happy": -1.8, "not impressed": -1.8,
    "never again": -2, "customer service sucks": -2, "sorry": -0.3, ":(": -1.5,
}

MIXED = {
    "but": 1, "however": 1, "although": 1, "though": 0.8, "still": 0.4, "ok": 0.6,
    "okay": 0.6, "fine": 0.4, "not bad": 1, "average": 1.2, "so so": 1.5, "meh": 1.5,
    "could be better": 1.5, "any chance": 1, "is there": 0.6, "do you": 0.6, "can you": 0.6,
    "can i": 0.6, "how do": 0.8, "how can": 0.8, "what is": 0.6, "when": 0.4, "will": 0.3,
    "does": 0.4, "question": 1, "wondering": 1, "?": 0.5,
}

NEGATORS = ["not", "no", "never", "dont", "don't", "didnt", "didn't", "isnt", "isn't",
            "wasnt", "wasn't", "cant", "can't", "wont", "won't", "without", "nothing"]
INTENSIFIERS = ["very", "so", "really", "super", "extremely", "too", "totally"]

INTENT = {
    "order_status": {
        "where is my": 2.5, "where's my": 2.5, "wheres my": 2.5, "has not arrived": 2.5,
        "hasn't arrived": 2.5, "hasnt arrived": 2.5, "not arrived": 2, "not received": 2,
        "haven't received": 2.5, "havent received": 2.5, "still waiting": 2, "tracking": 2,
        "track": 1.5, "status of my": 2.5, "order status": 2.5, "status": 1, "arrive": 1.2,
        "arrival": 1.5, "when will": 1.5, "delivered": 1.2, "delivery": 1.2, "shipped": 1.5,
        "shipping": 1, "my order": 1.5, "my package": 2, "how long": 1, "eta": 1.5,
        "on its way": 1.5, "in the mail": 1.5, "when can i expect": 2, "expect": 0.8,
    },
    "complaint": {
        "charged twice": 2.5, "double charged": 2.5, "wrong": 1.5, "incorrect": 1.5,
        "overcharged": 2.5, "extra charge": 2, "complain*": 2.5, "terrible": 1.2,
        "awful": 1.2, "unacceptable": 1.5, "ridiculous": 1.2, "rude": 1.5, "worst": 1.2,
        "broken": 1.2, "damaged": 1.5, "defective": 2, "not what i ordered": 2.5,
        "disappoint*": 1.2, "less than": 1, "not the right": 1.5, "rip off": 2,
        "scam": 2, "unfair": 1.5, "why was i charged": 2, "bad service": 2,
    },
    "cancellation": {
        # a cancelling verb outweighs the thing cancelled ("cancel my reservation")
        "cancel": 3.5, "cancell*": 3.5, "cancel*": 3.5, "refund": 2.5, "money back": 2.5,
        "return": 1.5, "terminate": 2.5, "close my account": 2.5, "delete my account": 2.5,
        "unsubscribe": 2.5, "stop my": 1.5, "reverse": 1.2, "undo": 1.2, "call off": 2,
    },
    "purchase_pricing": {
        "how much": 2.5, "price": 2, "prices": 2, "cost": 2, "costs": 2, "fee": 1.5,
        "fees": 1.5, "charge for": 1.5, "exchange rate": 2, "rate": 1, "buy": 2,
        "purchase": 2, "order": 1.2, "order a": 1.5, "order some": 2, "place an order": 2.5,
        "i want to order": 2.5, "i need to order": 2.5, "can i order": 2.5, "get me": 1.2,
        "add to my cart": 2.5, "discount": 1.5, "quote": 1.5, "in stock": 2,
        "available": 1, "pay": 0.8, "how expensive": 2.5, "cheap": 1.2,
    },
    "support_technical": {
        "not working": 2.5, "doesn't work": 2.5, "doesnt work": 2.5, "won't work": 2.5,
        "stopped working": 2.5, "declined": 2.5, "decline": 2, "blocked": 2.5, "locked": 2,
        "frozen": 2, "pin": 2, "password": 2, "passcode": 2, "log in": 2, "login": 2,
        "sign in": 2, "error": 2, "app": 1.5, "activate": 2, "verify": 1.5,
        "verification": 1.5, "lost my card": 2.5, "stolen": 2, "lost or stolen": 2.5,
        "fraud": 2, "fraudulent": 2, "damaged card": 2.5, "card is broken": 2.5,
        "link": 1.2, "linking": 1.5, "failed": 2, "fail": 1.5, "reset": 2, "how do i": 1.2,
        "how can i": 1, "help me": 1, "contactless": 1.5, "atm": 1.5, "swallowed": 2,
        "report": 1.2, "crash*": 2, "bug": 2, "install": 2, "setup": 1.5, "set up": 1.5,
        "can't": 1, "cant": 1, "unable": 1.5, "won't": 1, "isn't working": 2.5,
    },
    "scheduling": {
        "schedule": 2.5, "scheduled": 2, "appointment": 3, "book": 2, "booking": 2,
        "reserve": 2.5, "reservation": 2.5, "table for": 2.5, "meeting": 2,
        "book a": 2.5, "set up a meeting": 3, "calendar": 2, "reschedule": 3,
        "available time": 2, "what time": 1.2, "tomorrow": 0.8, "next week": 1,
        "hotel": 1.5, "flight": 1.2, "room": 0.8, "slot": 1.5, "maintenance": 1.2,
    },
    "greeting_smalltalk": {
        "hi": 2, "hello": 2, "hey": 2, "good morning": 2, "good evening": 2,
        "good afternoon": 2, "how are you": 2, "what's up": 2, "whats up": 2, "bye": 2,
        "goodbye": 2.5, "see you": 2, "thank you": 1.5, "thanks": 1.5, "are you a bot": 3,
        "are you a robot": 3, "are you human": 3, "your name": 2.5, "who made you": 3,
        "how old are you": 3, "joke": 2, "fun fact": 2.5, "meaning of life": 3,
        "your hobbies": 3, "do you have": 0.5, "pets": 1.5, "where are you from": 3,
        "who do you work for": 3, "what can i ask you": 3, "what can you do": 2.5,
        "nice to meet you": 2.5, "have a nice day": 2, "talk to you later": 2,
    },
}

"""The language a patient writes in: English, Hindi (Devanagari or Hinglish in Latin script) or Kannada.

Language-identification libraries know Hindi in Devanagari but take Hinglish ("kal subah cardiology",
"mujhe doctor chahiye") and Latin-script Kannada ("nanage appointment beku") for English or noise,
and most patients write exactly that. So: the script decides when it is Kannada or Devanagari;
Latin text is scored by words only one language uses (small lexicons below). Words every language
borrows ("ok", "doctor", "appointment", "cancel", specialties) and names carry no language, so a
message made only of them, digits or emoji is None: the caller keeps the language it had.
"""

from __future__ import annotations

from app.bot.text import DEVANAGARI, KANNADA, tokens


def _lexicon(words: str) -> frozenset[str]:
    return frozenset(words.split())


# Latin-script Hindi words that are not English words.
HINGLISH = _lexicon(
    """
    mujhe mujhko muje mujhse chahiye chahie chaiye chahta chahti kal parso subah shaam sham dopahar
    raat baje haan haa nahi nahin nhi kya kyu kyun kaise kaisa kahan kaha kab kitna kitne kitni hai
    hain hoon hun mera meri mere hamara hamare aap aapka aapke aapki apna apni tum tumhara karo karna
    karni kijiye karein kariye krdo karwana dikhana dikhane milna milne batao bataiye bataye raha rahi
    rahe gaya gayi theek thik thoda bahut bohot abhi aaj ka ki ko se mein aur bhi ji dhanyavad dhanyawad
    shukriya namaste namaskar bukhar bukhaar dard seene accha acha achha sahi wala wali wale liye lekin
    pe jab tab koi kuch sab din hafte agle agla pichle somvar mangalvar budhvar guruvar shukravar
    shanivar ravivar khansi khujli ghutne kamar kaan gale saans behosh bachcha bachche beta beti
    hoga hogi chalega chahiye milega milegi dijiye bhai behen
    """
)

# Latin-script Kannada words that are not English (or Hindi) words.
KANNADA_LATIN = _lexicon(
    """
    nanage nange nanna nannu nimma nimage beku bekittu bekagide bekagittu illa houdu haudu hudu
    hegiddira hegidira hegide namaskara nale naale nadidu ivattu indu nenne dayavittu dayavitt madi
    maadi maadu yenu enu yaava yava yavaga yaavaga elli yelli eshtu estu vaidyaru doctru jvara jwara
    novu kemmu banni beda bedi dhanyavadagalu dhanyavada tumba swalpa beligge madhyahna sanje ratri
    somavara mangalavara budhavara guruvara shukravara shanivara bhanuvara aagutta agutta sigutta
    sigtara kodi heli helu avaru avru naanu nanu ide idya idiya magu magalu aaytu aytu bartini
    barthini bartene sari
    """
)

# English words: function words and what patients write to a clinic, none of them borrowed.
ENGLISH = _lexicon(
    """
    i im ive my mine myself you your yours we our us he she his her they their it its the a an is are
    am was were be been being have has had does did can could will would should shall may might must
    want need like see meet visit what when where which who whom how why today tomorrow yesterday
    morning afternoon evening night week weeks month next this that these those there here in on at
    for with of from and or but not about after before time timings timing open close closed fee fees
    cost price charges pain fever help talk speak call send location address branch insurance accept
    available slot slots first second third other some any all know tell get got give go come going
    coming monday tuesday wednesday thursday friday saturday sunday please thanks thank sorry
    earlier later book booked cancelled change new old number your than then just
    only also very much many more less problem since days hours minutes son daughter child baby wife
    husband mother father pay payment parking way nearest near far until till by doing done
    """
)

SUPPORTED = ("en", "hi", "kn")


def detect_language(text: str) -> str | None:
    """ "en", "hi" or "kn" for the language of `text`; None when nothing in it tells."""
    kannada = len(KANNADA.findall(text))
    devanagari = len(DEVANAGARI.findall(text))
    if kannada or devanagari:
        return "kn" if kannada >= devanagari else "hi"
    words = tokens(text)
    scores = {
        "kn": sum(w in KANNADA_LATIN for w in words),
        "hi": sum(w in HINGLISH for w in words),
        "en": sum(w in ENGLISH for w in words),
    }
    # Ties go to the Indian language: its words are the rarer, stronger signal ("mujhe slot chahiye for
    # tomorrow" is written by a Hindi speaker).
    best = max(scores, key=lambda lang: scores[lang])
    return best if scores[best] else None

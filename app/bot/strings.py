"""Every text the WhatsApp bot writes, in English, Hindi and Kannada, with the same {placeholders} in each."""

from __future__ import annotations

from string import Formatter

LANGUAGES = ("en", "hi", "kn")
DEFAULT_LANGUAGE = "en"

TEXTS: dict[str, dict[str, str]] = {
    "greet": {
        "en": "Hello {name}!",
        "hi": "नमस्ते {name}!",
        "kn": "ನಮಸ್ಕಾರ {name}!",
    },
    "welcome": {
        "en": "Welcome to {clinic}.",
        "hi": "{clinic} में आपका स्वागत है।",
        "kn": "{clinic} ಗೆ ಸ್ವಾಗತ.",
    },
    "restart": {
        "en": "Sorry, our earlier conversation timed out. Let's start again.",
        "hi": "माफ़ कीजिए, हमारी पिछली बातचीत का समय खत्म हो गया। चलिए फिर से शुरू करते हैं।",
        "kn": "ಕ್ಷಮಿಸಿ, ನಮ್ಮ ಹಿಂದಿನ ಸಂಭಾಷಣೆಯ ಸಮಯ ಮುಗಿದಿದೆ. ಮತ್ತೆ ಪ್ರಾರಂಭಿಸೋಣ.",
    },
    "menu": {
        "en": "I can help you with:\n1. Book an appointment\n2. My appointments\n3. Reschedule an appointment\n"
        "4. Cancel an appointment\n5. Clinic questions (timings, fees, addresses)\n6. Talk to a person\n"
        'Reply with a number, or write what you need, e.g. "heart doctor tomorrow morning".',
        "hi": "मैं इनमें आपकी मदद कर सकता हूँ:\n1. अपॉइंटमेंट बुक करें\n2. मेरे अपॉइंटमेंट\n3. अपॉइंटमेंट का समय बदलें\n"
        "4. अपॉइंटमेंट रद्द करें\n5. क्लिनिक के बारे में सवाल (समय, फीस, पता)\n6. किसी व्यक्ति से बात करें\n"
        'कोई नंबर भेजें, या लिखें कि आपको क्या चाहिए, जैसे "kal subah heart doctor"।',
        "kn": "ನಾನು ಇವುಗಳಲ್ಲಿ ಸಹಾಯ ಮಾಡಬಹುದು:\n1. ಅಪಾಯಿಂಟ್ಮೆಂಟ್ ಬುಕ್ ಮಾಡಿ\n2. ನನ್ನ ಅಪಾಯಿಂಟ್ಮೆಂಟ್‌ಗಳು\n"
        "3. ಅಪಾಯಿಂಟ್ಮೆಂಟ್ ಸಮಯ ಬದಲಿಸಿ\n4. ಅಪಾಯಿಂಟ್ಮೆಂಟ್ ರದ್ದುಗೊಳಿಸಿ\n5. ಕ್ಲಿನಿಕ್ ಬಗ್ಗೆ ಪ್ರಶ್ನೆಗಳು (ಸಮಯ, ಶುಲ್ಕ, ವಿಳಾಸ)\n"
        '6. ಒಬ್ಬ ವ್ಯಕ್ತಿಯೊಂದಿಗೆ ಮಾತನಾಡಿ\nಸಂಖ್ಯೆಯನ್ನು ಕಳುಹಿಸಿ, ಅಥವಾ ನಿಮಗೆ ಏನು ಬೇಕು ಎಂದು ಬರೆಯಿರಿ, ಉದಾ. "heart doctor tomorrow morning".',
    },
    "reprompt": {
        "en": "Sorry, I did not understand that. You can write for example "
        '"skin doctor this week", "my appointments", "cancel" or "menu".',
        "hi": "माफ़ कीजिए, मैं समझ नहीं पाया। आप लिख सकते हैं, जैसे "
        '"kal subah cardiology", "मेरे अपॉइंटमेंट", "cancel" या "menu"।',
        "kn": "ಕ್ಷಮಿಸಿ, ನನಗೆ ಅರ್ಥವಾಗಲಿಲ್ಲ. ನೀವು ಹೀಗೆ ಬರೆಯಬಹುದು, ಉದಾ. "
        '"skin doctor this week", "my appointments", "cancel" ಅಥವಾ "menu".',
    },
    "offer_human": {
        "en": "I'm sorry I could not help. Would you like to talk to a person? Reply yes or no.",
        "hi": "माफ़ कीजिए, मैं मदद नहीं कर पाया। क्या आप किसी व्यक्ति से बात करना चाहेंगे? हाँ या नहीं लिखें।",
        "kn": "ಕ್ಷಮಿಸಿ, ನನಗೆ ಸಹಾಯ ಮಾಡಲಾಗಲಿಲ್ಲ. ನೀವು ಒಬ್ಬ ವ್ಯಕ್ತಿಯೊಂದಿಗೆ ಮಾತನಾಡಲು ಬಯಸುವಿರಾ? ಹೌದು ಅಥವಾ ಇಲ್ಲ ಎಂದು ಉತ್ತರಿಸಿ.",
    },
    "unsupported": {
        "en": "Sorry, I can only read text messages. Please write what you need, or reply 'menu'.",
        "hi": "माफ़ कीजिए, मैं केवल लिखे हुए संदेश पढ़ सकता हूँ। कृपया लिखें कि आपको क्या चाहिए, या 'menu' भेजें।",
        "kn": "ಕ್ಷಮಿಸಿ, ನಾನು ಪಠ್ಯ ಸಂದೇಶಗಳನ್ನು ಮಾತ್ರ ಓದಬಲ್ಲೆ. ನಿಮಗೆ ಏನು ಬೇಕು ಎಂದು ಬರೆಯಿರಿ, ಅಥವಾ 'menu' ಕಳುಹಿಸಿ.",
    },
    "failed": {
        "en": "Sorry, something went wrong on our side. Please try again, or reply 'human' to talk to a person.",
        "hi": "माफ़ कीजिए, हमारी तरफ़ से कुछ गड़बड़ हो गई। कृपया फिर से कोशिश करें, या किसी व्यक्ति से बात करने के लिए 'human' लिखें।",
        "kn": "ಕ್ಷಮಿಸಿ, ನಮ್ಮ ಕಡೆಯಿಂದ ಏನೋ ತಪ್ಪಾಗಿದೆ. ದಯವಿಟ್ಟು ಮತ್ತೆ ಪ್ರಯತ್ನಿಸಿ, ಅಥವಾ ವ್ಯಕ್ತಿಯೊಂದಿಗೆ ಮಾತನಾಡಲು 'human' ಎಂದು ಬರೆಯಿರಿ.",
    },
    "yes_or_no": {
        "en": "Please reply yes or no.",
        "hi": "कृपया हाँ या नहीं में जवाब दें।",
        "kn": "ದಯವಿಟ್ಟು ಹೌದು ಅಥವಾ ಇಲ್ಲ ಎಂದು ಉತ್ತರಿಸಿ.",
    },
    "pick_one": {
        "en": 'Please reply with one of the numbers, or "none of these".',
        "hi": 'कृपया इनमें से कोई एक नंबर भेजें, या "none of these" लिखें।',
        "kn": 'ದಯವಿಟ್ಟು ಇವುಗಳಲ್ಲಿ ಒಂದು ಸಂಖ್ಯೆಯನ್ನು ಕಳುಹಿಸಿ, ಅಥವಾ "none of these" ಎಂದು ಬರೆಯಿರಿ.',
    },
    "ask_name": {
        "en": "I could not find this number in our records. What is your full name?",
        "hi": "यह नंबर हमारे रिकॉर्ड में नहीं है। आपका पूरा नाम क्या है?",
        "kn": "ಈ ಸಂಖ್ಯೆ ನಮ್ಮ ದಾಖಲೆಗಳಲ್ಲಿ ಇಲ್ಲ. ನಿಮ್ಮ ಪೂರ್ಣ ಹೆಸರು ಏನು?",
    },
    "name_again": {
        "en": "Please send your name in letters, for example: Asha Kumar.",
        "hi": "कृपया अपना नाम अक्षरों में भेजें, जैसे: Asha Kumar।",
        "kn": "ದಯವಿಟ್ಟು ನಿಮ್ಮ ಹೆಸರನ್ನು ಅಕ್ಷರಗಳಲ್ಲಿ ಕಳುಹಿಸಿ, ಉದಾ: Asha Kumar.",
    },
    "ask_age": {
        "en": "Thank you. How old are you? Reply with your age in years, or 'skip'.",
        "hi": "धन्यवाद। आपकी उम्र कितनी है? अपनी उम्र सालों में भेजें, या 'skip' लिखें।",
        "kn": "ಧನ್ಯವಾದಗಳು. ನಿಮ್ಮ ವಯಸ್ಸು ಎಷ್ಟು? ನಿಮ್ಮ ವಯಸ್ಸನ್ನು ವರ್ಷಗಳಲ್ಲಿ ಕಳುಹಿಸಿ, ಅಥವಾ 'skip' ಎಂದು ಬರೆಯಿರಿ.",
    },
    "age_again": {
        "en": "Please send your age as a number, for example 42, or 'skip'.",
        "hi": "कृपया अपनी उम्र अंकों में भेजें, जैसे 42, या 'skip' लिखें।",
        "kn": "ದಯವಿಟ್ಟು ನಿಮ್ಮ ವಯಸ್ಸನ್ನು ಸಂಖ್ಯೆಯಲ್ಲಿ ಕಳುಹಿಸಿ, ಉದಾ: 42, ಅಥವಾ 'skip' ಎಂದು ಬರೆಯಿರಿ.",
    },
    "registered": {
        "en": "Thank you, {name}. You are now registered with us.",
        "hi": "धन्यवाद, {name}। आपका पंजीकरण हो गया है।",
        "kn": "ಧನ್ಯವಾದಗಳು, {name}. ನಿಮ್ಮ ನೋಂದಣಿ ಆಗಿದೆ.",
    },
    "which_patient": {
        "en": "This number belongs to more than one patient. Who is writing?\n{options}",
        "hi": "यह नंबर एक से अधिक मरीज़ों का है। कौन लिख रहा है?\n{options}",
        "kn": "ಈ ಸಂಖ್ಯೆ ಒಬ್ಬರಿಗಿಂತ ಹೆಚ್ಚು ರೋಗಿಗಳದ್ದು. ಯಾರು ಬರೆಯುತ್ತಿದ್ದೀರಿ?\n{options}",
    },
    "ask_department": {
        "en": 'Which doctor or department would you like? For example "cardiology", "skin doctor" or a doctor\'s name.',
        "hi": 'आपको किस डॉक्टर या विभाग से मिलना है? जैसे "cardiology", "skin doctor" या डॉक्टर का नाम।',
        "kn": 'ನಿಮಗೆ ಯಾವ ವೈದ್ಯರು ಅಥವಾ ವಿಭಾಗ ಬೇಕು? ಉದಾ. "cardiology", "skin doctor" ಅಥವಾ ವೈದ್ಯರ ಹೆಸರು.',
    },
    "list_button": {
        "en": "Choose",
        "hi": "चुनें",
        "kn": "ಆಯ್ಕೆಮಾಡಿ",
    },
    "slots": {
        "en": 'Free times with {who}:\n{options}\nReply with a number, a time ("the 10:30 one"), '
        '"afternoon", "after 5", or "none of these".',
        "hi": '{who} के साथ खाली समय:\n{options}\nकोई नंबर, समय ("10:30 wala"), '
        '"afternoon", "after 5" या "none of these" भेजें।',
        "kn": '{who} ಅವರೊಂದಿಗೆ ಖಾಲಿ ಸಮಯಗಳು:\n{options}\nಸಂಖ್ಯೆ, ಸಮಯ ("10:30"), '
        '"afternoon", "after 5" ಅಥವಾ "none of these" ಎಂದು ಉತ್ತರಿಸಿ.',
    },
    "slot_taken": {
        "en": "Sorry, that time was just taken by someone else.",
        "hi": "माफ़ कीजिए, वह समय अभी किसी और ने ले लिया।",
        "kn": "ಕ್ಷಮಿಸಿ, ಆ ಸಮಯವನ್ನು ಈಗಷ್ಟೇ ಬೇರೆಯವರು ಪಡೆದುಕೊಂಡಿದ್ದಾರೆ.",
    },
    "no_slots": {
        "en": "Sorry, {who} has no free time that fits in the next {days} days. "
        "Would you like to join the waitlist? We will message you when a time opens up. Reply yes or no.",
        "hi": "माफ़ कीजिए, अगले {days} दिनों में {who} के पास कोई उपयुक्त खाली समय नहीं है। "
        "क्या आप प्रतीक्षा सूची में जुड़ना चाहेंगे? समय खाली होने पर हम आपको संदेश भेजेंगे। हाँ या नहीं लिखें।",
        "kn": "ಕ್ಷಮಿಸಿ, ಮುಂದಿನ {days} ದಿನಗಳಲ್ಲಿ {who} ಅವರಲ್ಲಿ ಸೂಕ್ತ ಖಾಲಿ ಸಮಯವಿಲ್ಲ. "
        "ನೀವು ಕಾಯುವ ಪಟ್ಟಿಗೆ ಸೇರಲು ಬಯಸುವಿರಾ? ಸಮಯ ಖಾಲಿಯಾದಾಗ ನಾವು ಸಂದೇಶ ಕಳುಹಿಸುತ್ತೇವೆ. ಹೌದು ಅಥವಾ ಇಲ್ಲ ಎಂದು ಉತ್ತರಿಸಿ.",
    },
    "no_slots_moving": {
        "en": "Sorry, {who} has no other free time in the next {days} days, so your appointment stays as it is. "
        "Reply 'human' to talk to a person.",
        "hi": "माफ़ कीजिए, अगले {days} दिनों में {who} के पास कोई और खाली समय नहीं है, इसलिए आपका अपॉइंटमेंट "
        "जैसा है वैसा ही रहेगा। किसी व्यक्ति से बात करने के लिए 'human' लिखें।",
        "kn": "ಕ್ಷಮಿಸಿ, ಮುಂದಿನ {days} ದಿನಗಳಲ್ಲಿ {who} ಅವರಲ್ಲಿ ಬೇರೆ ಖಾಲಿ ಸಮಯವಿಲ್ಲ, ಆದ್ದರಿಂದ ನಿಮ್ಮ ಅಪಾಯಿಂಟ್ಮೆಂಟ್ "
        "ಹಾಗೆಯೇ ಇರುತ್ತದೆ. ವ್ಯಕ್ತಿಯೊಂದಿಗೆ ಮಾತನಾಡಲು 'human' ಎಂದು ಬರೆಯಿರಿ.",
    },
    "waitlisted": {
        "en": "You are on the waitlist for {who}. We will message you when a time opens up.",
        "hi": "आप {who} की प्रतीक्षा सूची में हैं। समय खाली होने पर हम आपको संदेश भेजेंगे।",
        "kn": "ನೀವು {who} ಅವರ ಕಾಯುವ ಪಟ್ಟಿಯಲ್ಲಿದ್ದೀರಿ. ಸಮಯ ಖಾಲಿಯಾದಾಗ ನಾವು ಸಂದೇಶ ಕಳುಹಿಸುತ್ತೇವೆ.",
    },
    "confirm_booking": {
        "en": "Book {who} on {date} at {time}, {location}? Reply yes or no.",
        "hi": "{date} को {time} पर {who} ({location}) के साथ अपॉइंटमेंट बुक करें? हाँ या नहीं लिखें।",
        "kn": "{date} ರಂದು {time} ಕ್ಕೆ {who} ({location}) ಅವರೊಂದಿಗೆ ಬುಕ್ ಮಾಡಬೇಕೇ? ಹೌದು ಅಥವಾ ಇಲ್ಲ ಎಂದು ಉತ್ತರಿಸಿ.",
    },
    "booked": {
        "en": "Done, your appointment with {who} on {date} at {time} ({location}) is booked.",
        "hi": "हो गया, {date} को {time} पर {who} ({location}) के साथ आपका अपॉइंटमेंट बुक हो गया है।",
        "kn": "ಆಯಿತು, {date} ರಂದು {time} ಕ್ಕೆ {who} ({location}) ಅವರೊಂದಿಗೆ ನಿಮ್ಮ ಅಪಾಯಿಂಟ್ಮೆಂಟ್ ಬುಕ್ ಆಗಿದೆ.",
    },
    "not_done": {
        "en": "OK, I have not changed anything. Reply 'menu' to see what I can do.",
        "hi": "ठीक है, मैंने कुछ नहीं बदला। मैं क्या कर सकता हूँ देखने के लिए 'menu' लिखें।",
        "kn": "ಸರಿ, ನಾನು ಏನನ್ನೂ ಬದಲಾಯಿಸಿಲ್ಲ. ನಾನು ಏನು ಮಾಡಬಹುದು ಎಂದು ನೋಡಲು 'menu' ಎಂದು ಬರೆಯಿರಿ.",
    },
    "emergency": {
        "en": "This may be an emergency. Please call our emergency line now on {phone}, or go to the nearest "
        "emergency room. I have alerted our staff.",
        "hi": "यह आपातकाल हो सकता है। कृपया अभी हमारी आपातकालीन लाइन {phone} पर कॉल करें, या नज़दीकी "
        "इमरजेंसी में जाएँ। मैंने हमारे स्टाफ़ को सूचित कर दिया है।",
        "kn": "ಇದು ತುರ್ತು ಪರಿಸ್ಥಿತಿ ಆಗಿರಬಹುದು. ದಯವಿಟ್ಟು ಈಗಲೇ ನಮ್ಮ ತುರ್ತು ಸಂಖ್ಯೆ {phone} ಗೆ ಕರೆ ಮಾಡಿ, ಅಥವಾ "
        "ಹತ್ತಿರದ ತುರ್ತು ಚಿಕಿತ್ಸಾ ಘಟಕಕ್ಕೆ ಹೋಗಿ. ನಾನು ನಮ್ಮ ಸಿಬ್ಬಂದಿಗೆ ತಿಳಿಸಿದ್ದೇನೆ.",
    },
    "ask_question": {
        "en": "What would you like to know? For example: timings, fees, or the address of a branch.",
        "hi": "आप क्या जानना चाहते हैं? जैसे: समय, फीस, या किसी शाखा का पता।",
        "kn": "ನೀವು ಏನು ತಿಳಿಯಲು ಬಯಸುತ್ತೀರಿ? ಉದಾ: ಸಮಯ, ಶುಲ್ಕ, ಅಥವಾ ಶಾಖೆಯ ವಿಳಾಸ.",
    },
    "handoff": {
        "en": "I have asked a member of our team to reply to you here. They will write to you soon.",
        "hi": "मैंने हमारी टीम के एक सदस्य से यहाँ आपको जवाब देने को कहा है। वे जल्द ही आपको लिखेंगे।",
        "kn": "ನಮ್ಮ ತಂಡದ ಸದಸ್ಯರೊಬ್ಬರಿಗೆ ಇಲ್ಲಿ ನಿಮಗೆ ಉತ್ತರಿಸಲು ಕೇಳಿದ್ದೇನೆ. ಅವರು ಶೀಘ್ರದಲ್ಲೇ ನಿಮಗೆ ಬರೆಯುತ್ತಾರೆ.",
    },
    "question_handoff": {
        "en": "I don't have a reliable answer to that, so I have passed your question to our team. "
        "They will reply here soon.",
        "hi": "इसका पक्का जवाब मेरे पास नहीं है, इसलिए मैंने आपका सवाल हमारी टीम को भेज दिया है। वे जल्द ही यहाँ जवाब देंगे।",
        "kn": "ಇದಕ್ಕೆ ನನ್ನಲ್ಲಿ ಖಚಿತ ಉತ್ತರವಿಲ್ಲ, ಆದ್ದರಿಂದ ನಿಮ್ಮ ಪ್ರಶ್ನೆಯನ್ನು ನಮ್ಮ ತಂಡಕ್ಕೆ ಕಳುಹಿಸಿದ್ದೇನೆ. ಅವರು ಶೀಘ್ರದಲ್ಲೇ ಇಲ್ಲಿ ಉತ್ತರಿಸುತ್ತಾರೆ.",
    },
    "anything_else": {
        "en": "Anything else? Reply 'menu' to see what I can do.",
        "hi": "और कुछ? मैं क्या कर सकता हूँ देखने के लिए 'menu' लिखें।",
        "kn": "ಇನ್ನೇನಾದರೂ? ನಾನು ಏನು ಮಾಡಬಹುದು ಎಂದು ನೋಡಲು 'menu' ಎಂದು ಬರೆಯಿರಿ.",
    },
    "no_appointments": {
        "en": "You have no upcoming appointments. Reply 1 to book one.",
        "hi": "आपका कोई आने वाला अपॉइंटमेंट नहीं है। बुक करने के लिए 1 भेजें।",
        "kn": "ನಿಮಗೆ ಮುಂಬರುವ ಯಾವುದೇ ಅಪಾಯಿಂಟ್ಮೆಂಟ್ ಇಲ್ಲ. ಬುಕ್ ಮಾಡಲು 1 ಕಳುಹಿಸಿ.",
    },
    "appointments": {
        "en": "Your upcoming appointments:\n{options}",
        "hi": "आपके आने वाले अपॉइंटमेंट:\n{options}",
        "kn": "ನಿಮ್ಮ ಮುಂಬರುವ ಅಪಾಯಿಂಟ್ಮೆಂಟ್‌ಗಳು:\n{options}",
    },
    "which_appointment": {
        "en": "Which appointment?\n{options}\nReply with the number.",
        "hi": "कौन सा अपॉइंटमेंट?\n{options}\nनंबर भेजें।",
        "kn": "ಯಾವ ಅಪಾಯಿಂಟ್ಮೆಂಟ್?\n{options}\nಸಂಖ್ಯೆಯನ್ನು ಕಳುಹಿಸಿ.",
    },
    "confirm_cancel": {
        "en": "Cancel your appointment with {who} on {date} at {time}? Reply yes or no.",
        "hi": "{date} को {time} पर {who} के साथ आपका अपॉइंटमेंट रद्द करें? हाँ या नहीं लिखें।",
        "kn": "{date} ರಂದು {time} ಕ್ಕೆ {who} ಅವರೊಂದಿಗಿನ ಅಪಾಯಿಂಟ್ಮೆಂಟ್ ರದ್ದುಗೊಳಿಸಬೇಕೇ? ಹೌದು ಅಥವಾ ಇಲ್ಲ ಎಂದು ಉತ್ತರಿಸಿ.",
    },
    "cancelled": {
        "en": "Your appointment is cancelled. Reply 1 any time to book a new one.",
        "hi": "आपका अपॉइंटमेंट रद्द हो गया है। नया बुक करने के लिए कभी भी 1 भेजें।",
        "kn": "ನಿಮ್ಮ ಅಪಾಯಿಂಟ್ಮೆಂಟ್ ರದ್ದಾಗಿದೆ. ಹೊಸದನ್ನು ಬುಕ್ ಮಾಡಲು ಯಾವಾಗ ಬೇಕಾದರೂ 1 ಕಳುಹಿಸಿ.",
    },
    "moving": {
        "en": "Let's find a new time for your appointment with {who} on {date} at {time}.",
        "hi": "चलिए {date} को {time} पर {who} के साथ आपके अपॉइंटमेंट के लिए नया समय ढूँढते हैं।",
        "kn": "{date} ರಂದು {time} ಕ್ಕೆ {who} ಅವರೊಂದಿಗಿನ ನಿಮ್ಮ ಅಪಾಯಿಂಟ್ಮೆಂಟ್‌ಗೆ ಹೊಸ ಸಮಯ ಹುಡುಕೋಣ.",
    },
    "confirm_move": {
        "en": "Move your appointment to {date} at {time} with {who}, {location}? Reply yes or no.",
        "hi": "अपना अपॉइंटमेंट {date} को {time} पर {who} ({location}) के साथ कर दें? हाँ या नहीं लिखें।",
        "kn": "ನಿಮ್ಮ ಅಪಾಯಿಂಟ್ಮೆಂಟ್ ಅನ್ನು {date} ರಂದು {time} ಕ್ಕೆ {who} ({location}) ಅವರೊಂದಿಗೆ ಬದಲಿಸಬೇಕೇ? ಹೌದು ಅಥವಾ ಇಲ್ಲ ಎಂದು ಉತ್ತರಿಸಿ.",
    },
    "moved": {
        "en": "Done, your appointment is moved to {date} at {time} with {who} ({location}).",
        "hi": "हो गया, आपका अपॉइंटमेंट {date} को {time} पर {who} ({location}) के साथ कर दिया गया है।",
        "kn": "ಆಯಿತು, ನಿಮ್ಮ ಅಪಾಯಿಂಟ್ಮೆಂಟ್ ಅನ್ನು {date} ರಂದು {time} ಕ್ಕೆ {who} ({location}) ಅವರೊಂದಿಗೆ ಬದಲಾಯಿಸಲಾಗಿದೆ.",
    },
    "visit_confirmed": {
        "en": "Thank you for confirming. See you on {date} at {time}!",
        "hi": "पुष्टि के लिए धन्यवाद। {date} को {time} पर मिलते हैं!",
        "kn": "ದೃಢೀಕರಿಸಿದ್ದಕ್ಕೆ ಧನ್ಯವಾದಗಳು. {date} ರಂದು {time} ಕ್ಕೆ ಭೇಟಿಯಾಗೋಣ!",
    },
    "not_changeable": {
        "en": "That appointment can no longer be changed here. Reply 'human' to talk to a person.",
        "hi": "वह अपॉइंटमेंट अब यहाँ से बदला नहीं जा सकता। किसी व्यक्ति से बात करने के लिए 'human' लिखें।",
        "kn": "ಆ ಅಪಾಯಿಂಟ್ಮೆಂಟ್ ಅನ್ನು ಇನ್ನು ಇಲ್ಲಿ ಬದಲಾಯಿಸಲು ಸಾಧ್ಯವಿಲ್ಲ. ವ್ಯಕ್ತಿಯೊಂದಿಗೆ ಮಾತನಾಡಲು 'human' ಎಂದು ಬರೆಯಿರಿ.",
    },
}


def placeholders(text: str) -> set[str]:
    """The {names} a text fills in."""
    return {name for _, name, _, _ in Formatter().parse(text) if name}


def text(key: str, language: str, **values: str) -> str:
    """The text `key` in `language` (English when that language is not one of ours), filled in."""
    variants = TEXTS[key]
    return variants.get(language, variants[DEFAULT_LANGUAGE]).format(**values)

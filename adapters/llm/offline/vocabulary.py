"""Words the offline extractor must not take for names, and the words that announce a name."""

from __future__ import annotations


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Grammar words, in English and in Hinglish as typed in Latin script.
FUNCTION_WORDS = _words(
    """
    a an the to for of with on at in by from and or but is are was were be been am
    please pls plz kindly me my i we us our you your he she his her him they them their it its
    this that these those there here what whats what's when where who whom which how why
    can could would should will shall may might must do does did done has have had get got give
    make new next last same any some all every each no not yes ok okay also too very just only
    up down out back over about after before into as so if then than via per now soon asap
    one two both other another someone somebody anyone
    ke ka ki ko se saath sath karo kar kardo karna karein karwa karwao karao do dena dijiye hai hain
    tha thi kya mein me liye wala wali wale aur ya bhi abhi jaldi mujhe hum humein main aap unhe use
    unka uska unki uski inka iska woh yeh ye jo na wid w
    know want wants wanted need needs needed tell told ask asked say said says go going come coming
    bring take buy pay paid let help like keep kept confirm confirmed inform informed arrange tried
    """
)

# What staff say about the PRM itself: verbs, objects, fields and titles.
COMMAND_WORDS = _words(
    """
    book booking booked books schedule scheduled appointment appointments appt appts consult
    consultation slot slots cancel cancelled canceled cancellation move moved shift reschedule
    rescheduled postpone prepone change update edit correct modify register registration
    registered add create find search lookup look show list view display see check send sent
    message messages msg whatsapp sms text call calls remind reminder reminders task tasks todo
    follow followup follow-up lead leads enquiry inquiry enquiries interested opportunity
    patient patients mareez phone mobile number contact email address name named gender dob
    born birth date age years year old doctor doctors dr doc clinic hospital branch opd specialist
    specialty speciality department free available availability visit visits record records details
    profile mr mrs ms miss shri smt sir madam ji sahab saab kumari master baby
    bhejo bhej dikhao batao dhundo dhoondo hatao lagao lagwao chahiye naya nayi radd badlo
    male female man woman lady gent boy girl other m f
    morning afternoon evening night today tomorrow tonight week weeks day days hours minutes
    monday tuesday wednesday thursday friday saturday sunday noon
    neurology neurologist dentist dental eye ophthalmologist psychiatrist psychiatry urology
    urologist oncology oncologist physio physiotherapy nephrology gastro pulmonology surgeon
    """
)

# Why patients come: "for chest pain" is a reason, never a patient called Chest Pain.
REASON_WORDS = _words(
    """
    pain ache aches fever cough cold flu checkup check-up review test tests scan scans mri ct xray
    x-ray ecg echo bp sugar diabetes thyroid headache migraine rash allergy injury fracture
    vaccination vaccine vaccines surgery package health full body chest knee stomach skin ear throat
    results result report reports problem problems issue issues pregnancy delivery dressing stitches
    blood urine sample camp general routine annual executive heart bone bones joint joints
    consultation treatment therapy medicine medicines prescription refill lab labs collection ready
    infection swelling bleeding dizziness weakness vomiting diarrhoea diarrhea anxiety depression
    """
)

NOT_NAME_WORDS = FUNCTION_WORDS | COMMAND_WORDS | REASON_WORDS

# Words after which a patient's name is expected ("book Ananya", "for Karan", "patient: Deepa").
NAME_CUES = _words(
    """
    book for of patient named name call register lead remind cancel move reschedule shift find search
    message whatsapp sms text to mr mrs ms miss shri smt about
    """
)
# Words that may follow a patient's name ("Vikram Singh with", "Ananya ka appointment").
NAME_ENDS = _words("with ko ka ki ke ne about back interested is has wants needs from")

# Requests that are plainly not for a clinic's PRM, unless the instruction names a patient or doctor.
OFF_TOPIC_WORDS = _words(
    """
    flight flights train bus cab taxi uber ola hotel table restaurant movie cinema weather rain joke
    jokes poem song songs cricket score news stock stocks recipe pizza meeting match game
    """
)

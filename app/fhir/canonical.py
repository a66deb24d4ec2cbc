"""Every canonical URL the PRM defines. Each one exists as a resource in `fhir_profiles/`
(a test checks), so HAPI, EHRs and this code agree on what the data means."""

from __future__ import annotations

CANONICAL_BASE = "https://fhir.prm.health"


def _sd(name: str) -> str:
    return f"{CANONICAL_BASE}/StructureDefinition/{name}"


def _cs(name: str) -> str:
    return f"{CANONICAL_BASE}/CodeSystem/{name}"


def _vs(name: str) -> str:
    return f"{CANONICAL_BASE}/ValueSet/{name}"


def _sid(name: str) -> str:
    return f"{CANONICAL_BASE}/sid/{name}"


def questionnaire_url(name: str) -> str:
    """The canonical URL of a project questionnaire (fhir_profiles/Questionnaire/<name>.json)."""
    return f"{CANONICAL_BASE}/Questionnaire/{name}"


# -- profiles ---------------------------------------------------------------------------------
PROFILE_PATIENT = _sd("prm-patient")
PROFILE_PRACTITIONER_ROLE = _sd("prm-practitioner-role")
PROFILE_LOCATION = _sd("prm-location")
PROFILE_APPOINTMENT = _sd("prm-appointment")
PROFILE_COMMUNICATION = _sd("prm-communication")
PROFILE_OPPORTUNITY = _sd("prm-opportunity")
PROFILE_TICKET = _sd("prm-ticket")
PROFILE_CONSENT = _sd("prm-consent")
PROFILE_REMINDER = _sd("prm-reminder")
PROFILE_CONVERSATION = _sd("prm-conversation")
PROFILE_CANNED_RESPONSE = _sd("prm-canned-response")
PROFILE_COVERAGE = _sd("prm-coverage")
PROFILE_MRN_COUNTER = _sd("prm-mrn-counter")  # Basic: the last MRN issued for one prefix
PROFILE_EHR_ENDPOINT = _sd("prm-ehr-endpoint")  # Endpoint: a registered EHR rest-hook receiver
PROFILE_JOURNEY_TEMPLATE = _sd("prm-journey-template")  # PlanDefinition: a journey template
PROFILE_JOURNEY = _sd("prm-journey")  # CarePlan: a patient's journey, one activity per stage Task
PROFILE_JOURNEY_STAGE = _sd("prm-journey-stage")  # Task: one stage of a journey
PROFILE_INTAKE_RESPONSE = _sd("prm-intake-response")  # QuestionnaireResponse: a patient's intake answers
PROFILE_PROBLEM = _sd("prm-problem")  # Condition: a problem the patient reported at intake
PROFILE_ALLERGY = _sd("prm-allergy")  # AllergyIntolerance: an allergy the patient reported at intake
PROFILE_MEDICATION_STATEMENT = _sd("prm-medication-statement")  # MedicationStatement: reported at intake
PROFILE_DAILY_ROLLUP = _sd("prm-daily-rollup")  # MeasureReport: one local day of one analytics report


def analytics_measure_url(kind: str) -> str:
    """The canonical URL of an analytics report kind's Measure (fhir_profiles/Measure/prm-analytics-<kind>)."""
    return f"{CANONICAL_BASE}/Measure/prm-analytics-{kind}"


PROFILE_SEGMENT = _sd("prm-segment")  # Group (actual false): a saved patient filter
PROFILE_CAMPAIGN = _sd("prm-campaign")  # CommunicationRequest: a campaign to a segment
PROFILE_CAMPAIGN_RUN = _sd("prm-campaign-run")  # CommunicationRequest: one run of a campaign, basedOn it

# -- extensions -------------------------------------------------------------------------------
EXT_PREFERRED_CHANNEL = _sd("preferred-channel")  # Patient: valueCode from VS_CONTACT_CHANNEL
EXT_BOOKING_CHANNEL = _sd("booking-channel")  # Appointment: valueCode from VS_BOOKING_CHANNEL
EXT_RESCHEDULED_FROM = _sd("rescheduled-from")  # Appointment: valueReference(Appointment)
EXT_HOLD_EXPIRES = _sd("hold-expires")  # Appointment (pending hold): valueDateTime
EXT_CHANNEL = _sd("channel")  # Communication, CommunicationRequest, Consent: valueCode (prm-channel)
EXT_THREAD = _sd("conversation-thread")  # Communication: valueString (thread key)
EXT_DELIVERY_STATUS = _sd("delivery-status")  # Communication: valueCode from CS_DELIVERY_STATUS
EXT_MESSAGE_TEMPLATE = _sd("message-template")  # Communication: complex (name, language, variables JSON)
EXT_MESSAGE_CHOICES = _sd("message-choices")  # Communication: complex (body, button, options JSON)
EXT_CONVERSATION_TAG = _sd("conversation-tag")  # Task (conversation): valueString, 0..*
EXT_READ_UP_TO = _sd("read-up-to")  # Task (conversation): valueDateTime, inbound messages read up to it
EXT_ESTIMATED_VALUE = _sd("estimated-value")  # Task (opportunity): valueMoney
EXT_SOURCE_CHANNEL = _sd("source-channel")  # Task (opportunity): valueCode from VS_SOURCE_CHANNEL
EXT_TICKET_CATEGORY = _sd("ticket-category")  # Task (ticket): valueCode from CS_TICKET_CATEGORY
EXT_TICKET_ESCALATED = _sd(
    "ticket-escalated"
)  # Task (ticket): valueDateTime, the due whose breach was escalated
EXT_LOST_AT_STAGE = _sd("lost-at-stage")  # Task (opportunity, lost): valueCode, the stage it was lost from
EXT_CONSULTATION_FEE = _sd("consultation-fee")  # HealthcareService: valueMoney, a consultation's fee
EXT_INSTRUCTION = _sd("instruction-text")  # Provenance: valueString, the staff instruction acted on
EXT_CONSENT_SOURCE = _sd("consent-source")  # Consent: valueCode from VS_CONSENT_SOURCE, how it reached us
EXT_PATIENT_TAG = _sd("patient-tag")  # Patient: valueCoding from CS_PATIENT_TAG, 0..*
EXT_MRN_LAST_ISSUED = _sd("mrn-last-issued")  # Basic (MRN counter): valueInteger
EXT_VOICE_CALL = _sd("voice-call")  # Communication (call): complex, times, agent, intent, unknown fields
EXT_SLOT_MINUTES = _sd("slot-minutes")  # Schedule: valueInteger, length of the slots generated for it
EXT_JOURNEY_OFFSET_DAYS = _sd(
    "journey-offset-days"
)  # PlanDefinition.action: valueInteger, days from the anchor
EXT_JOURNEY_MESSAGE_TEMPLATE = _sd("journey-message-template")  # PlanDefinition.action: valueString
EXT_JOURNEY_ACTION_DONE = _sd("journey-action-done")  # Task (journey stage): valueInteger, 0..*
EXT_SEGMENT_SEARCH = _sd("segment-search")  # Group (segment): valueString, the FHIR Patient search
EXT_CAMPAIGN = _sd(
    "campaign"
)  # CommunicationRequest (campaign): complex, template, variants, schedule, window
# Core extension (not ours): a Location's IANA time zone.
EXT_TIMEZONE = "http://hl7.org/fhir/StructureDefinition/timezone"

# -- code systems and value sets ---------------------------------------------------------------
CS_CHANNEL = _cs("prm-channel")
CS_OPPORTUNITY_STAGE = _cs("opportunity-stage")
CS_TICKET_CATEGORY = _cs("ticket-category")
CS_TICKET_STATUS = _cs("ticket-status")
CS_LOST_REASON = _cs("opportunity-lost-reason")
CS_DELIVERY_STATUS = _cs("delivery-status")
CS_TASK_TYPE = _cs("prm-task-type")
CS_SPECIALTY = _cs("prm-specialty")
CS_AGENT_TYPE = _cs("prm-agent-type")
CS_CONSENT_POLICY = _cs("prm-consent-policy")
CS_CONSENT_SOURCE = _cs("consent-source")
CS_MESSAGE_STATUS_REASON = _cs("message-status-reason")
CS_LIBRARY_TYPE = _cs("prm-library-type")
CS_PATIENT_TAG = _cs("patient-tag")
CS_JOURNEY_ACTION = _cs("journey-action-kind")
CS_SEGMENT_CRITERION = _cs("segment-criterion")
CS_ENGAGEMENT_LEVEL = _cs("engagement-level")

VS_BOOKING_CHANNEL = _vs("booking-channel")
VS_SOURCE_CHANNEL = _vs("source-channel")
VS_CONTACT_CHANNEL = _vs("contact-channel")
VS_OPPORTUNITY_STAGE = _vs("opportunity-stage")
VS_TICKET_CATEGORY = _vs("ticket-category")
VS_TICKET_STATUS = _vs("ticket-status")
VS_LOST_REASON = _vs("opportunity-lost-reason")
VS_DELIVERY_STATUS = _vs("delivery-status")
VS_SPECIALTY = _vs("prm-specialty")
VS_CHANNEL = _vs("prm-channel")  # every code of CS_CHANNEL
VS_AGENT_TYPE = _vs("prm-agent-type")
VS_CONSENT_POLICY = _vs("prm-consent-policy")
VS_CONSENT_SOURCE = _vs("consent-source")
VS_TASK_TYPE = _vs("prm-task-type")
VS_MESSAGE_STATUS_REASON = _vs("message-status-reason")
VS_PATIENT_TAG = _vs("patient-tag")
VS_JOURNEY_ACTION = _vs("journey-action-kind")
VS_SEGMENT_CRITERION = _vs("segment-criterion")

# -- identifier systems (NamingSystem resources) -----------------------------------------------
SID_PHONE = _sid("phone")  # Patient: the E.164 phone, for exact token search
SID_STAFF_USER = _sid("staff-user")  # Provenance agent: the API key's user
SID_PRM_AGENT = _sid("prm-agent")  # Provenance agent: assistant, whatsapp-bot, voice-agent ...
SID_ASSISTANT_PLAN = _sid("assistant-plan")  # resources written by confirming an assistant plan
SID_TWILIO_MESSAGE = _sid("twilio-message-sid")
SID_EMAIL_MESSAGE = _sid("email-message-id")  # Communication: the Message-ID of an email sent
SID_VOICE_CALL = _sid("voice-call-id")
SID_CONVERSATION = _sid("conversation")  # Task (conversation): "<channel>:<address>"
SID_MESSAGE_KEY = _sid("message-key")  # Communication: the business event it is sent for (sent once)
SID_REMINDER = _sid(
    "reminder"
)  # CommunicationRequest (prm-reminder): "appointment/<id>/<kind>", one per kind
SID_CANNED_RESPONSE_SHORTCUT = _sid("canned-response-shortcut")  # Library (canned response)
SID_MRN = _sid("mrn")  # Patient: medical record number "<PREFIX>-000123", prefix per clinic organisation
SID_ABHA_NUMBER = _sid("abha-number")  # Patient: ABDM health id number, 14 digits without separators
SID_ABHA_ADDRESS = _sid("abha-address")  # Patient: ABDM health id address, "name@abdm"
SID_JOURNEY = _sid("journey")  # CarePlan (prm-journey): "appointment/<id>/<template>" or "start/<uuid>"
SID_JOURNEY_STAGE = _sid("journey-stage")  # Task (prm-journey-stage): "<journey identifier>/<stage code>"
SID_JOURNEY_ACTION = _sid(
    "journey-action"
)  # Task (ticket) a journey action created: "<careplan>/<stage>/<n>"
SID_SLOT_CONFLICT = _sid("slot-conflict")  # Task (ticket): "Slot/<id>/<appointment id>/<appointment id>..."
SID_CAMPAIGN_RUN = _sid("campaign-run")  # CommunicationRequest (campaign run): "<campaign>/<yyyymmddTHHMM>"
SID_CARE_GAP = _sid("care-gap")  # Task (ticket) a care gap opened: "<rule>/<patient>/<anchor>"

# -- codes used in code ----------------------------------------------------------------------------
SNOMED = "http://snomed.info/sct"
TASK_TYPE_OPPORTUNITY = "opportunity"
TASK_TYPE_TICKET = "ticket"
TASK_TYPE_CONVERSATION = "conversation"
TASK_TYPE_JOURNEY_STAGE = "journey-stage"
LIBRARY_TYPE_CANNED_RESPONSE = "canned-response"
# Consent (profile prm-consent): category and policyRule codes in CS_CONSENT_POLICY, core scope.
CONSENT_CATEGORY_CONTACT = "contact-channel"
# A marketing consent (do not disturb) denies or permits this purpose of use on every channel; campaign
# messages carry it as Communication.category, which is how the send job knows them.
CONSENT_CATEGORY_MARKETING = "marketing"
CS_ACT_REASON = "http://terminology.hl7.org/CodeSystem/v3-ActReason"
PURPOSE_MARKETING = "HMARKT"
CONSENT_POLICY_CONTACT = "clinic-contact-policy"
CONSENT_SCOPE_SYSTEM = "http://terminology.hl7.org/CodeSystem/consentscope"
CONSENT_SCOPE_PRIVACY = "patient-privacy"


def journey_template_url(name: str) -> str:
    """The canonical URL of a journey template (PlanDefinition.url): templates are data, one URL per name."""
    return f"{CANONICAL_BASE}/PlanDefinition/{name}"

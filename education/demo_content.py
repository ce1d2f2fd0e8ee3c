"""Demo patient-education content: microneedling and the consultation.

Pure data, read by education.demo.seed(). Every sentence is written fresh,
in plain UK English, from the shared fact sheet
(shared/content/microneedling-facts.md). The people are demo people and the
prices are demo prices. Every patient-facing text must read at grade 8 or
lower (education.readability.reading_grade).
"""

from decimal import Decimal

CONTRIBUTORS = [
    {
        "key": "reviewer",
        "name": "Dr Morgan Example (demo)",
        "credentials": "MBBS, MRCP (Dermatology)",
        "role": "Consultant dermatologist",
        "is_clinician": True,
    },
    {
        "key": "editor",
        "name": "Casey Sample (demo)",
        "credentials": "",
        "role": "Patient information editor",
        "is_clinician": False,
    },
]

# Only sources from the checked list at the end of the fact sheet.
SOURCES = [
    {
        "key": "fda",
        "title": "Microneedling Devices",
        "publisher": "U.S. Food and Drug Administration",
        "url": "https://www.fda.gov/medical-devices/aesthetic-cosmetic-devices/microneedling-devices",
    },
    {
        "key": "dermnet",
        "title": "Skin needling",
        "publisher": "DermNet",
        "url": "https://dermnetnz.org/topics/skin-needling",
    },
    {
        "key": "alster2018",
        "title": "Microneedling: a review and practical guide",
        "publisher": "Alster TS, Graham PM. Dermatologic Surgery, 2018",
        "url": "",
    },
    {
        "key": "singh2016",
        "title": "Microneedling: advances and widening horizons",
        "publisher": "Singh A, Yadav S. Indian Dermatology Online Journal, 2016;7:244-254",
        "url": "",
    },
    {
        "key": "juhasz2020",
        "title": "Microneedling for the treatment of scars: an update for clinicians",
        "publisher": (
            "Juhasz MLW, Cohen JL. Clinical, Cosmetic and Investigational Dermatology, "
            "2020;13:997-1003"
        ),
        "url": "",
    },
]

TOPICS = [
    {"slug": "about-the-treatment", "name": "About the treatment", "order": 1},
    {"slug": "your-appointment", "name": "Your appointment", "order": 2},
    {"slug": "sessions-and-results", "name": "Sessions and results", "order": 3},
    {"slug": "side-effects-and-safety", "name": "Side effects and safety", "order": 4},
    {"slug": "aftercare", "name": "Aftercare", "order": 5},
]

MICRONEEDLING_BODY = """\
## What it is

Microneedling is a skin treatment. You may also hear it called skin needling or collagen
induction therapy. A small device with lots of very fine, short needles makes tiny holes in
the top layers of your skin. It is a minor procedure with little downtime. Most people are
back to their normal day within a day or so.

## How it works

Your skin treats the tiny holes as small wounds. So it starts to heal itself, just as it
would after a scratch. The holes close up fast, often within minutes.

While it heals, your skin makes new collagen and elastin. These are proteins that help keep
skin firm and springy. This is why the look and feel of your skin may improve over time. It
is slow, and results vary from person to person.

There are two main kinds of device. One is a simple roller you hold in your hand. The other
is a small pen with a motor. Most clinics use the pen, because the practitioner can set how
deep the needles go.

## The appointment

- We clean your skin first.
- We usually put on a numbing cream. It takes about 30 minutes to work.
- Your practitioner then moves the device over the area.
- This part takes about 30 to 60 minutes. It depends on how big the area is.

Most people feel only mild discomfort. You may see tiny spots of blood. This is normal.

## Who should wait or ask first

Please tell us before you book if any of these apply to you:

- You have a skin infection, cold sore or acne breakout in the area.
- You have eczema or psoriasis that is flaring in the area.
- You have taken isotretinoin, a tablet for acne, in the last 6 months.
- You get keloids or other raised scars.
- You are pregnant or breastfeeding.
- You take medicine to thin your blood, or you have a bleeding disorder.
- You have had radiotherapy or chemotherapy not long ago.
- You have diabetes that is not well controlled, or another illness that slows healing.
- You have sunburn, a tan, or a recent peel or laser treatment in the area.
- You have had an allergy or a bad reaction to numbing cream or to a skin product.
- You get cold sores in or near the area, such as around your mouth.
- Your skin often gets darker patches after a spot or cut heals. This is more common in
  darker skin. It can happen after microneedling too, though it usually fades.

A yes does not always mean you cannot have it. We may ask you to wait, or to see a
clinician first. Our short online questions will help you check.

## After your session

Some redness and swelling is normal for a few days. The aftercare on this page says how to
look after your skin, and when to call us.
"""

MICRONEEDLING_WHO_IT_HELPS = """\
Microneedling may help with:

- acne scars, which is its best-known use
- other scars and stretch marks
- fine lines and wrinkles
- skin that has lost some of its firmness
- uneven skin tone and dark patches
- rough skin and pores that look large

It can be used on the face, neck and hands, and on other parts of the body.

It is often said to suit many skin types. But the results and the risks can differ with
your skin type and with what you want to treat. So a trained practitioner checks your skin
and your health first. Results vary, and no one can promise how much your skin will change.
"""

MICRONEEDLING_RISKS = """\
Most people have some mild side effects. They tend to settle within a few days. They
include:

- redness, a bit like mild sunburn
- swelling
- skin that feels tender or sore
- tiny spots of bleeding during the treatment
- dry or flaky skin while it heals

Serious problems are rare. They include infection, scarring and changes in skin colour.
These are more likely if the practitioner lacks skill, if the tools are not clean, or if
aftercare is poor. This is why it matters who treats you, and how you care for your skin
after.
"""

MICRONEEDLING_AFTERCARE = """\
### The first 24 hours

- Keep the treated skin clean.
- Do not wear make-up.
- Wash with a gentle cleanser and lukewarm water. Pat dry with a clean towel.
- Try not to touch the area. Do not pick or scratch it.

### The first 2 days

For 48 hours, stay away from:

- heavy exercise, or anything that makes you sweat a lot
- saunas and steam rooms
- swimming pools
- hot baths

### The first week

- Use a gentle moisturiser.
- Do not use retinoids, such as retinol.
- Do not use acids (AHA or BHA), scrubs or other exfoliants.
- Avoid other strong skin products.
- Do not have any other treatments on the same area.

### Sun protection

- Keep out of direct sun as much as you can.
- Use a broad-spectrum sunscreen, SPF 30 or higher, every day.
- This matters most in the first few weeks.

### When to call us

Redness and swelling should settle within a few days. Call us if:

- they get worse, not better
- you see pus
- the pain gets worse
- the skin feels hot
- you have a fever
- you see any other sign of infection

If you feel very unwell and we are closed, call NHS 111. In an emergency, call 999.

Keep to the gap we planned between sessions. Please do not bring your next one forward. Your
skin needs that time to heal.
"""

QUESTIONS = [
    {
        "text": (
            "Do you have a skin infection, cold sore, acne breakout, or an eczema or psoriasis "
            "flare in the area you want treated?"
        ),
        "outcome": "not_suitable",
        "explanation": (
            "We cannot treat skin that is infected or flaring. Please wait until it has fully "
            "settled, then book. Call us if you are not sure."
        ),
    },
    {
        "text": "Have you taken isotretinoin (a tablet for acne) in the last 6 months?",
        "outcome": "consult",
        "explanation": (
            "This medicine can affect how your skin heals. A clinician will check the dates with "
            "you and tell you when it is safe to start."
        ),
    },
    {
        "text": "Do you get keloids or other raised, thick scars?",
        "outcome": "consult",
        "explanation": (
            "Small wounds can cause raised scars in some people. A clinician needs to look at "
            "your skin and talk through the risk with you first."
        ),
    },
    {
        "text": "Are you pregnant or breastfeeding?",
        "outcome": "not_suitable",
        "explanation": (
            "We do not offer this treatment while you are pregnant or breastfeeding. You are "
            "welcome to book once you have stopped."
        ),
    },
    {
        "text": "Do you take medicine to thin your blood, or do you have a bleeding disorder?",
        "outcome": "consult",
        "explanation": (
            "You may bleed more than usual. A clinician will talk with you about your "
            "medicine first. Please do not stop any medicine without asking your doctor."
        ),
    },
    {
        "text": "Are you having radiotherapy or chemotherapy, or have you had it recently?",
        "outcome": "consult",
        "explanation": (
            "These treatments can slow how well your skin heals. A clinician will talk with you "
            "first to see if and when the treatment is safe."
        ),
    },
    {
        "text": (
            "Do you have diabetes that is not well controlled, or another condition that slows "
            "healing?"
        ),
        "outcome": "consult",
        "explanation": (
            "Your skin may heal more slowly. A clinician will ask about your health and advise "
            "you before you book."
        ),
    },
    {
        "text": (
            "Do you have sunburn or a tan in the area, or have you recently had a peel, laser or "
            "other skin treatment there?"
        ),
        "outcome": "consult",
        "explanation": (
            "Your skin needs time to recover first. A clinician will check your skin and help "
            "you choose a safe date."
        ),
    },
    {
        "text": (
            "Have you had an allergy or a bad reaction to numbing cream (such as lidocaine) or "
            "to a skin product?"
        ),
        "outcome": "consult",
        "explanation": (
            "We use a numbing cream and put products on your skin during the treatment. A "
            "clinician will ask what happened and choose what is safe for you."
        ),
    },
    {
        "text": "Do you get cold sores in or near the area you want treated, such as your lips?",
        "outcome": "consult",
        "explanation": (
            "The needles can set off a cold sore. A clinician may suggest a medicine to take "
            "before your session to help stop one."
        ),
    },
    {
        "text": "Does your skin often get darker patches after a spot, cut or burn heals?",
        "outcome": "consult",
        "explanation": (
            "Some skin can darken for a while after treatment. It usually fades. A clinician "
            "may test a small patch first or use gentler settings."
        ),
    },
]

CONSULTATION_BODY = """\
## What happens

A consultation is a 30-minute chat with one of our clinicians. It is free. We ask what you
would like to change about your skin. We look at your skin and ask about your health and any
medicines you take.

Then we tell you what we think. That may be a treatment, a different plan, or no treatment
at all. We explain the likely benefits and the risks in plain words. We will never promise a
result, because results vary. There is no pressure to book.

## Who it is for

A consultation is a good idea if you are not sure which treatment suits you. It is also the
next step if you answered yes to one of our health questions. And it is for anyone who would
like to talk things through before they decide.
"""

CONSULTATION_WHO_IT_HELPS = """\
A consultation may help you if:

- you are new to skin treatments and want advice
- you answered yes to one of our health questions
- you have a health condition or take medicines
- you want to know the risks before you decide
- you are not sure what results to expect
"""

TREATMENTS = [
    {
        "slug": "microneedling",
        "name": "Microneedling",
        "other_names": [
            "micro-needling",
            "collagen induction therapy",
            "CIT",
            "skin needling",
            "microneedle therapy",
            "dermaroller",
            "derma roller",
            "dermapen",
            "derma pen",
        ],
        "summary": (
            "Microneedling uses very fine needles to prompt your skin's own healing. It may help "
            "scars, fine lines and texture. Results vary."
        ),
        "body": MICRONEEDLING_BODY,
        "diagram": "skin_needling",
        "who_it_helps": MICRONEEDLING_WHO_IT_HELPS,
        "risks": MICRONEEDLING_RISKS,
        "aftercare": MICRONEEDLING_AFTERCARE,
        "treatment_minutes": 45,
        "numbing_minutes": 30,
        "sessions_usual": 3,
        "sessions_min": 1,
        "sessions_max": 6,
        "spacing_min_days": 28,
        "spacing_preferred_days": 28,
        "spacing_max_days": 42,
        "session_price": Decimal("180.00"),
        "package_price": Decimal("480.00"),  # a course of 3: £60 less than 3 sessions
        "bookable_online": True,
        "is_consultation": False,
        "questions": QUESTIONS,
        "sources": ["fda", "dermnet", "juhasz2020"],
    },
    {
        "slug": "consultation",
        "name": "Consultation",
        "other_names": ["skin consultation", "assessment"],
        "summary": (
            "A free 30-minute talk with a clinician. We check your skin and health, and help you "
            "decide if a treatment suits you."
        ),
        "body": CONSULTATION_BODY,
        "who_it_helps": CONSULTATION_WHO_IT_HELPS,
        "risks": "",
        "aftercare": "",
        "treatment_minutes": 30,
        "numbing_minutes": 0,
        "sessions_usual": 1,
        "sessions_min": 1,
        "sessions_max": 1,
        "spacing_min_days": 0,
        "spacing_preferred_days": 0,
        "spacing_max_days": 0,
        "session_price": Decimal("0.00"),
        "package_price": None,
        "bookable_online": True,
        "is_consultation": True,
        "questions": [],
        "sources": [],
    },
]

ACNE_SCARS_BODY = """\
## Why people choose it for acne scars

Acne can leave marks long after the spots have gone. Many acne scars are small dips or pits
in the skin. They can make the skin look uneven, even under make-up. Treating these scars is
the best-known use of microneedling.

## How it may help

Microneedling makes lots of tiny holes in the top layers of the skin. Your skin treats them
as small wounds and starts to heal. As it heals, it makes new collagen. This is a protein that
helps keep skin firm.

Over time, this can help break down old, stiff scar tissue. New tissue grows in its place.
This may make pitted scars look softer and shallower. For deeper scars, the practitioner may
set the needles to go a little deeper.

## What the research says

A 2020 review for doctors looked at 58 studies of microneedling for scars. None of these
studies reported serious side effects. That is reassuring, but it does not mean there is no
risk.

In the United States, the Food and Drug Administration (FDA) has cleared some devices for
acne scars on the face. That clearance is for adults aged 22 and over.

Research can only tell us what tends to happen in groups of people. It cannot tell you what
will happen to your own skin.

## What results to expect

Results vary a lot from person to person. They depend on the type of scar, how deep it is,
your skin type and your health. Some people see a clear change, and others see a small one.
It is best to expect softer scars, not perfect skin. We will never promise a set result.

Change is slow. You may notice early signs within a few weeks. The skin keeps improving for
months as new collagen builds up.

## How many sessions you may need

One session is rarely enough. Most people need a course of 3 to 6 sessions. Deep scars may
need more. We space sessions about 4 to 6 weeks apart. This gives your skin time to heal and
rebuild in between.

## Is it right for you?

Microneedling is not right for everyone. It may not suit you if you have an acne breakout
now, or if you have taken the acne tablet isotretinoin in the last 6 months. If you get
raised scars or keloids, please talk to a clinician first.

The best first step is a free consultation. We look at your scars, ask about your health and
talk through the risks. Please tell us about any medicines you take, too. Then you can
decide, with no pressure.
"""

EXPECT_BODY = """\
## Before your visit

If this is your first time, you will fill in some health questions. Please tell us about any
medicines you take and any skin problems you have. Let us know if you have sunburn or a tan,
or have had a peel or laser treatment in the area not long ago. Ask us which of your skin
products to pause before you come in.

Try to come with a clean face and no make-up, if you can. If not, we will clean it off.

## When you arrive

Your practitioner will look at your skin and check that nothing has changed since you
booked. They will explain what will happen and answer your questions. You can stop at any
time.

Next, we clean your skin well. Then we put on a numbing cream and leave it for about 30
minutes. You can sit and relax while it works.

## During the treatment

Your practitioner moves the device over the area in small sections. Most people feel only
mild discomfort, like a light scratch or a buzz. You may see tiny spots of blood. This is
normal.

The treatment itself takes about 30 to 60 minutes. A small area is quicker. A larger area,
such as the face and neck, takes longer. Plan for up to two hours in the clinic, with the
numbing time.

## Straight after

Your skin will look red and may feel warm and tight, a bit like mild sunburn. Some people
have a little swelling. We will go through your aftercare before you leave. You will get it
in writing as well.

Most people can go back to their normal day within a day or so. You may want to plan a quiet
evening.

## The next few days

The redness and swelling usually fade within a few days. Your skin may feel dry or look a
little flaky as it heals. A gentle moisturiser helps.

For the first day, keep your skin clean and do not wear make-up. For two days, avoid heavy
exercise, saunas, pools and hot baths. For about a week, avoid strong skin products, and use
sunscreen every day.

Call us if the redness or swelling gets worse after a few days, or if you see pus or any
other sign of infection.

## Your next session

Most people have a course of sessions, about 4 to 6 weeks apart. Please keep to the gap we
plan. Do not bring a session forward, as your skin needs that time to heal and rebuild.

You may see early changes within a few weeks. The skin can keep improving for months after.
Results vary, so we will look at how your skin is doing at each visit.
"""

SAFETY_BODY = """\
## Why it matters who treats you

For most people, the side effects of microneedling are mild. They settle within a few days.
But serious problems can happen. These include infection, scarring and
changes in skin colour. They are rare, and they are often linked to poor skill, tools that
are not clean, or poor aftercare.

That is why the person who treats you matters so much. A skilled practitioner lowers the
risk. They can also tell you honestly if the treatment is not right for you.

## What to look for

Look for a qualified person with plenty of experience. This might be a dermatologist, or a
practitioner who has been well trained in skin treatments. A good clinic will:

- check your skin and ask about your health before treating you
- explain the risks as well as the benefits
- never promise you a set result
- use clean, well-kept tools in a clean room
- give you clear aftercare advice in writing
- tell you who to call if something goes wrong

## Questions to ask

Do not be shy about asking questions. A good practitioner will be glad to answer them.

- What training do you have?
- How many of these treatments have you done?
- How do you clean your tools and your room?
- What are the risks for my skin type?
- What results are realistic for me?
- What should I do if I have a problem after?

## Why a home roller is not the same

You can buy skin rollers to use at home. But a home roller is not the same as a treatment in
a clinic.

At home, no one checks your skin or your health first. No one checks that the tool is right
for you. It is also hard to keep a roller clean. The FDA warns that tools that are not cleaned
well can cause infection. Used the wrong way, a roller can also hurt your skin.

If you want to try microneedling, it is safer to have it done by a trained person.

## Devices that add heat

Some devices add radiofrequency energy, which heats the skin as the needles go in. This is
not the same as plain microneedling. The FDA has warned of burns, scars and nerve damage with
these devices. If a clinic offers this, ask what it involves and what the risks are.

## Signs of a problem

Some redness and swelling is normal at first. Call your clinic if it gets worse after a few
days. Call them too if you see pus, or if you have more pain, heat in the skin, or a fever.
Do not wait to see if it clears up on its own.
"""

OTHER_USES_BODY = """\
## More than acne scars

Acne scars are the best-known use of microneedling. But people also have it for other skin
concerns. It may help with:

- other kinds of scars
- stretch marks
- fine lines and wrinkles
- skin that has lost some firmness
- uneven skin tone and dark patches
- rough texture and pores that look large

It can be used on the face, neck and hands, and on other parts of the body. Each concern is a
little different, so your plan is made for you.

## How one treatment can help in different ways

All of these uses rely on the same thing. The tiny holes made by the needles prompt your skin
to heal. As it heals, it makes new collagen and elastin. These help skin stay firm and
springy. Over time, this may make the skin look smoother and more even.

## What is known so far

In the United States, the FDA has cleared some microneedling devices for three uses. These
are acne scars on the face, wrinkles on the face, and scars on the tummy. The clearance is for
adults aged 22 and over.

Other uses, such as stretch marks or dark patches, are not on that list. People do still have
microneedling for them, and it may help. But it is worth asking your practitioner what
results are realistic for you.

## Results vary

How much your skin changes depends on what you want to treat and how marked it is. It also
depends on your skin type and your health. Some people see a clear change. Others see only a
small one. We will never promise a set result. We look at your skin at each visit and tell
you honestly how it is going.

Change is slow. It can take a course of 3 to 6 sessions, spaced several weeks apart. The skin
can keep improving for months after.

## Skin type and colour

Microneedling is often said to suit many skin types. But the risks are not the same for
everyone. For example, some skin types are more likely to get darker or lighter patches after
treatment. This is why a practitioner should always check your skin first.

Please tell us if your skin has reacted badly to a treatment in the past. Tell us too if you
tend to get raised scars or keloids.

## Talk to us first

If you are not sure whether microneedling could help you, book a free consultation. We will
look at your skin, listen to what you want, and be honest about what it can and cannot do.
"""

ARTICLES = [
    {
        "slug": "microneedling-for-acne-scars",
        "title": "Microneedling for acne scars: what it can and cannot do",
        "treatment": "microneedling",
        "topic": "about-the-treatment",
        "summary": (
            "Microneedling may soften pitted acne scars. Learn how it works, how many sessions it "
            "takes, and why results vary."
        ),
        "body": ACNE_SCARS_BODY,
        "author": "editor",
        "reviewed_by": "reviewer",
        "sources": ["juhasz2020", "fda", "dermnet"],
        "published_days_ago": 40,
    },
    {
        "slug": "microneedling-what-to-expect",
        "title": "Your microneedling appointment: what to expect on the day and after",
        "treatment": "microneedling",
        "topic": "your-appointment",
        "summary": (
            "What happens on the day, from numbing cream to treatment. Plus how your skin may look "
            "after, and how to care for it."
        ),
        "body": EXPECT_BODY,
        "author": "editor",
        "reviewed_by": "reviewer",
        "sources": ["dermnet", "alster2018"],
        "published_days_ago": 30,
    },
    {
        "slug": "microneedling-safety-choosing-a-practitioner",
        "title": "Staying safe: how to choose a microneedling practitioner",
        "treatment": "microneedling",
        "topic": "side-effects-and-safety",
        "summary": (
            "The risks of microneedling, what to look for in a clinic, questions to ask, and why "
            "a home roller is not the same."
        ),
        "body": SAFETY_BODY,
        "author": "editor",
        "reviewed_by": "reviewer",
        "sources": ["fda", "dermnet"],
        "published_days_ago": 20,
    },
    {
        "slug": "microneedling-beyond-acne-scars",
        "title": "Stretch marks, fine lines and skin tone: other uses of microneedling",
        "treatment": "microneedling",
        "topic": "sessions-and-results",
        "summary": (
            "What else microneedling may help with, what is known so far, and why a practitioner "
            "should check your skin first."
        ),
        "body": OTHER_USES_BODY,
        "author": "editor",
        "reviewed_by": "reviewer",
        "sources": ["fda", "singh2016"],
        "published_days_ago": 10,
    },
]

_FAQS = [
    # (topic, question, answer)
    (
        "about-the-treatment",
        "What is microneedling?",
        "It is a skin treatment that uses a device with many very fine needles. The needles make "
        "tiny holes in the top layers of your skin. This prompts your skin to heal and make new "
        "collagen. Over time, this may improve how your skin looks and feels.",
    ),
    (
        "about-the-treatment",
        "Is microneedling the same as a dermaroller or dermapen?",
        "Yes, these are names for the same kind of treatment. A roller is a simple tool you hold "
        "in your hand. A pen has a small motor, and the practitioner can set how deep the needles "
        "go. Other names for it are skin needling and collagen induction therapy.",
    ),
    (
        "about-the-treatment",
        "Can it treat acne scars?",
        "Treating acne scars is its best-known use. It may help soften scars that sit as dips or "
        "pits in the skin. Most people need a course of sessions. Results vary. It is best to "
        "expect softer scars, not perfect skin.",
    ),
    (
        "about-the-treatment",
        "Can it treat stretch marks?",
        "It may help stretch marks look less marked. It is better known for acne scars than for "
        "stretch marks. Results vary, so we will talk through what is realistic for you first.",
    ),
    (
        "about-the-treatment",
        "Can it help with wrinkles?",
        "It may soften fine lines and wrinkles and help skin feel a little firmer. This happens "
        "slowly, as your skin makes new collagen. Results vary from person to person.",
    ),
    (
        "about-the-treatment",
        "Is it safe for my skin type?",
        "It is thought to suit many skin types. But the risks and results can differ with "
        "your skin type. For example, some people are more likely to get darker or lighter "
        "patches after. So we ask you some health questions before you book, and your "
        "practitioner looks at your skin before your first session starts.",
    ),
    (
        "your-appointment",
        "Does microneedling hurt?",
        "For most people it is only a little uncomfortable. We usually put a numbing cream on "
        "your skin first. Your skin may feel sore or tender for a day or two after.",
    ),
    (
        "your-appointment",
        "How long does it take?",
        "The treatment takes about 30 to 60 minutes, depending on the size of the area. The "
        "numbing cream needs about 30 minutes to work before we start. So plan to be with us for "
        "up to two hours.",
    ),
    (
        "your-appointment",
        "Will I bleed?",
        "You may see tiny spots of blood while we treat you. This is normal and stops quickly. "
        "Please tell us if you take medicine to thin your blood or have a bleeding disorder.",
    ),
    (
        "your-appointment",
        "Do I need a consultation first?",
        "Not always. If you answer yes to some of our health questions, we will ask you to see "
        "a clinician first. You can also book a free consultation if you just want advice.",
    ),
    (
        "sessions-and-results",
        "How many sessions will I need?",
        "Most people need a course of 3 to 6 sessions. Deep scars may need more. It depends on "
        "what you want to treat and how marked it is. We will suggest a plan after we see your "
        "skin.",
    ),
    (
        "sessions-and-results",
        "How far apart are the sessions?",
        "We space sessions about 4 to 6 weeks apart. This gives your skin time to heal and "
        "rebuild. Please do not bring a session forward.",
    ),
    (
        "sessions-and-results",
        "When will I see results?",
        "Some people notice early changes within a few weeks. The skin keeps improving for months "
        "as new collagen builds up. Results vary, and we cannot promise a set result.",
    ),
    (
        "side-effects-and-safety",
        "Is there any downtime?",
        "There is very little. Your skin will be red for a day or so, a bit like mild sunburn. "
        "Within a day or so, most people are back to their usual routine.",
    ),
    (
        "side-effects-and-safety",
        "What are the side effects?",
        "Most people have redness, swelling and some soreness. You may have tiny spots of "
        "bleeding during the treatment, and dry or flaky skin after. These usually settle within "
        "a few days. Rarely, there can be infection, scarring or changes in skin colour.",
    ),
    (
        "side-effects-and-safety",
        "How do I choose a practitioner?",
        "Choose a qualified person with lots of experience, such as a dermatologist or a trained "
        "skin practitioner. They should check your skin and health first and explain the risks. "
        "They should use clean tools and never promise a set result.",
    ),
    (
        "side-effects-and-safety",
        "Can I do it at home with a roller?",
        "We do not advise it. A home roller is not the same as a treatment in a clinic. No one "
        "checks your skin first, and it is hard to keep the tool clean. Tools that are not "
        "cleaned well can cause infection.",
    ),
    (
        "side-effects-and-safety",
        "Can I have it if I am pregnant or breastfeeding?",
        "We ask you to wait until you are no longer pregnant or breastfeeding. You are welcome to "
        "book after that. Call us if you would like to talk it through.",
    ),
    (
        "side-effects-and-safety",
        "What is radiofrequency microneedling?",
        "Some devices add radiofrequency energy, which heats the skin. This is not the same as "
        "plain microneedling. The FDA has warned of burns, scars and nerve damage with these "
        "devices. Ask any clinic that offers it to explain the risks.",
    ),
    (
        "aftercare",
        "Can I wear make-up afterwards?",
        "Please do not wear make-up for the first 24 hours. Your skin has tiny holes that need to "
        "heal, so keep the skin clean. Wash it gently with a mild cleanser and lukewarm water.",
    ),
    (
        "aftercare",
        "What should I avoid before and after?",
        "Before, avoid sunburn and tanning, and avoid peels, laser or other treatments in the "
        "area. After, avoid make-up for a day, and heavy exercise, saunas, pools and hot baths "
        "for two days. For about a week, avoid retinoids, acids, scrubs and other treatments in "
        "the area. Keep out of direct sun and use SPF 30 or higher every day.",
    ),
    (
        "aftercare",
        "When should I call the clinic after treatment?",
        "Call us if redness or swelling gets worse after a few days. Call us too if you see pus, "
        "or if you have more pain, heat in the skin or a fever. These can be signs of infection.",
    ),
]

FAQS = [
    {
        "question": question,
        "answer": answer,
        "topic": topic,
        "treatment": "microneedling",
        "order": order,
    }
    for order, (topic, question, answer) in enumerate(_FAQS, start=1)
]

"""Build the seed extraction recordings from the claims below: `python -m tests.recordings.build`.

The claims are what a good model returns for each seed (quotes copied verbatim, figures as
stated, dates resolved against 2024-08-13). The requests are not written by hand: the real
LLMExtractor sends them through respx, so each file holds exactly the request the tests
will send, answered by a wire-format `chat.completion`. Rerun after any prompt or schema
change; the old files of a seed are replaced.
"""

# ruff: noqa: E501  (verbatim quotes and statements are data; wrapping them hurts review)
from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import respx

from service.llm.llm_extractor import ClaimList, LLMExtractor
from service.pipeline.chunking import split
from tests.recording import (
    RECORDINGS,
    chat_completion,
    llm_settings,
    save_recording,
    seed_context,
    seed_text,
)

GROUP = "extract_claims"
MON, TUE, PREV_TUE = "2024-08-12", "2024-08-13", "2024-08-06"


def q(text: str, value: float, measure: str, unit: str | None = None, qualifier: str = "exact"):
    return {
        "text": text,
        "value": value,
        "upper": None,
        "unit": unit,
        "measure": measure,
        "qualifier": qualifier,
    }


def claim(
    statement: str,
    quote: str,
    claimant: str | None = None,
    entities: tuple[str, ...] = (),
    quantities: tuple[dict[str, Any], ...] = (),
    time_text: str | None = None,
    event_date: str | None = None,
) -> dict[str, Any]:
    return {
        "statement": statement,
        "quote": quote,
        "claimant": claimant,
        "entities": list(entities),
        "quantities": list(quantities),
        "time_text": time_text,
        "event_date": event_date,
    }


KURSK_GOVERNOR = ("Alexei Smirnov", "Kursk region")
SEED_CLAIMS: dict[str, list[dict[str, Any]]] = {
    "000_645ecb53b1ed8b97": [
        claim(
            "Ukraine's cross-border offensive in Russia's Kursk region is the largest Ukraine has carried out since Russia's invasion began in 2022.",
            "The offensives are the largest that Ukraine has carried out since the Russian invasion began in 2022.",
            entities=("Ukraine", "Russia", "Kursk region"),
        ),
        claim(
            "Ukrainian media outlets released video footage on Monday that they say shows Ukrainian soldiers removing a Russian flag from a building in a settlement in the Kursk region.",
            "On Monday, Ukrainian media outlets released video footage that they say shows Ukrainian soldiers removing a Russian flag from a building in a settlement in the Kursk region.",
            claimant="Ukrainian media outlets",
            entities=("Kursk region",),
            time_text="On Monday",
            event_date=MON,
        ),
        claim(
            "Ukrainian media outlets say the settlement where Ukrainian soldiers removed a Russian flag is about 4 kilometers from the border.",
            "They say the settlement is located about 4 kilometers from the border.",
            claimant="Ukrainian media outlets",
            entities=("Kursk region",),
            quantities=(q("4 kilometers", 4, "distance from the border", "kilometers", "about"),),
        ),
        claim(
            "Vladimir Putin held a meeting on Monday with national security officials and authorities from three regions bordering Ukraine.",
            "Putin held a meeting on Monday with national security officials and authorities from three of the regions that border Ukraine.",
            entities=("Vladimir Putin", "Ukraine"),
            quantities=(q("three", 3, "border regions at the meeting"),),
            time_text="on Monday",
            event_date=MON,
        ),
        claim(
            "Alexei Smirnov, acting governor of Kursk, said 12 people had been killed and 121 injured in the Kursk region.",
            "The acting governor of Kursk, Alexei Smirnov, said that 12 people had been killed and 121 others had been injured in the region.",
            claimant="Alexei Smirnov",
            entities=KURSK_GOVERNOR,
            quantities=(
                q("12 people", 12, "people killed"),
                q("121 others", 121, "people injured"),
            ),
        ),
        claim(
            "Alexei Smirnov said Ukrainian forces have advanced 12 kilometers into the Kursk region.",
            "He also said that Ukrainian forces have advanced 12 kilometers into Kursk",
            claimant="Alexei Smirnov",
            entities=KURSK_GOVERNOR,
            quantities=(q("12 kilometers", 12, "advance depth", "kilometers"),),
        ),
        claim(
            "Alexei Smirnov said Ukrainian forces have taken control of 28 settlements in the Kursk region.",
            "He also said that Ukrainian forces have advanced 12 kilometers into Kursk and taken control of 28 settlements.",
            claimant="Alexei Smirnov",
            entities=KURSK_GOVERNOR,
            quantities=(q("28 settlements", 28, "settlements under Ukrainian control"),),
        ),
        claim(
            "Alexei Smirnov said 121,000 people have already been evacuated from the Kursk border area.",
            "He added that 121,000 people have already evacuated from the area.",
            claimant="Alexei Smirnov",
            entities=KURSK_GOVERNOR,
            quantities=(q("121,000 people", 121000, "people evacuated"),),
        ),
        claim(
            "The governor of the Belgorod region said around 10,000 people had fled from districts of the Belgorod region along the border with Ukraine.",
            "The governor of the Belgorod region, which neighbors Kursk, said that around 10,000 people had fled from some of the districts along the border with Ukraine.",
            claimant="governor of the Belgorod region",
            entities=("Belgorod region", "Kursk", "Ukraine"),
            quantities=(q("10,000 people", 10000, "people who fled", qualifier="about"),),
        ),
        claim(
            "Vladimir Putin said the main task of Russia's defense ministry is to expel Ukrainian forces from Russia's territory and secure the border.",
            "Putin noted that the defense ministry’s main task is to expel the enemy from Russia’s territory and secure the border.",
            claimant="Vladimir Putin",
            entities=("Vladimir Putin", "Russian defense ministry", "Russia"),
        ),
        claim(
            "Ukraine's President Volodymyr Zelenskyy held a meeting with senior government officials on Monday.",
            "Meanwhile, Ukraine’s President Volodymyr Zelenskyy held a meeting with senior government officials on Monday.",
            entities=("Volodymyr Zelenskyy", "Ukraine"),
            time_text="on Monday",
            event_date=MON,
        ),
        claim(
            "Ukraine's army chief Oleksandr Syrskyi said Ukrainian troops have taken control of about 1,000 square kilometers in the Kursk region.",
            "The commander-in-chief said Ukrainian troops have taken control of about 1,000 square kilometers.",
            claimant="Oleksandr Syrskyi",
            entities=("Oleksandr Syrskyi", "Kursk region"),
            quantities=(
                q(
                    "1,000 square kilometers",
                    1000,
                    "area under Ukrainian control",
                    "square kilometers",
                    "about",
                ),
            ),
        ),
    ],
    "001_ffa75115645ef01b": [
        claim(
            "Vladimir Putin vowed to expel Ukrainian forces from Russian territory after reports that Ukrainian troops had seized dozens of Russian villages.",
            "Russian President Vladimir Putin has vowed to expel enemy forces from his country’s territory following reports of Ukrainian troops seizing dozens of Russian villages and significant areas of land.",
            entities=("Vladimir Putin", "Russia", "Ukraine"),
        ),
        claim(
            "Vladimir Putin held a meeting on Monday with regional officials and figures from Russia's security, government and law enforcement sectors about the Ukrainian incursion.",
            "During a meeting on Monday with regional officials and key figures from Russia’s security, government, and law enforcement sectors, the full extent of the incursion was revealed.",
            entities=("Vladimir Putin", "Russia"),
            time_text="on Monday",
            event_date=MON,
        ),
        claim(
            "Aleksey Smirnov, acting head of the Kursk region, told Vladimir Putin that 28 settlements in the Kursk region were under Ukrainian control.",
            "Aleksey Smirnov, the acting head of the Kursk region, informed Putin that 28 settlements within his jurisdiction were now under Ukrainian control.",
            claimant="Aleksey Smirnov",
            entities=("Aleksey Smirnov", "Kursk region", "Vladimir Putin"),
            quantities=(q("28 settlements", 28, "settlements under Ukrainian control"),),
        ),
        claim(
            "Aleksey Smirnov said Ukrainian forces had advanced about 12 kilometers into Russian territory along a 40-kilometer-wide section of the border.",
            "He added that Ukrainian forces had advanced approximately 7.5 miles (12 kilometers) into Russian territory, spanning a 25-mile (40-kilometer) wide section of the border.",
            claimant="Aleksey Smirnov",
            entities=("Aleksey Smirnov", "Russia"),
            quantities=(
                q("7.5 miles (12 kilometers)", 12, "advance depth", "kilometers", "about"),
                q(
                    "25-mile (40-kilometer)",
                    40,
                    "width of the advance along the border",
                    "kilometer",
                ),
            ),
        ),
        claim(
            "Ukrainian military leader Oleksandr Syrskyi reported on Monday that about 1,000 square kilometers of Russian territory were under Ukrainian control.",
            "Ukrainian military leader Oleksandr Syrskyi also reported on Monday that about 386 square miles (1,000 square kilometers) of Russian territory were now under Ukrainian control.",
            claimant="Oleksandr Syrskyi",
            entities=("Oleksandr Syrskyi", "Russia"),
            quantities=(
                q(
                    "386 square miles (1,000 square kilometers)",
                    1000,
                    "area under Ukrainian control",
                    "square kilometers",
                    "about",
                ),
            ),
            time_text="on Monday",
            event_date=MON,
        ),
        claim(
            "Vladimir Putin said the Ukrainian incursion was an attempt by Ukraine to improve its negotiation position.",
            "Putin described the incursion as an attempt by Ukraine to “improve its negotiation position,”",
            claimant="Vladimir Putin",
            entities=("Vladimir Putin", "Ukraine"),
        ),
        claim(
            "Aleksey Smirnov reported that 180,000 people had been advised to evacuate from the Kursk region and 121,000 had already left.",
            "Smirnov reported that 180,000 people had been advised to evacuate, with 121,000 already leaving the area.",
            claimant="Aleksey Smirnov",
            entities=("Aleksey Smirnov", "Kursk region"),
            quantities=(
                q("180,000 people", 180000, "people told to evacuate"),
                q("121,000", 121000, "people evacuated"),
            ),
        ),
        claim(
            "Belgorod governor Vyacheslav Gladkov announced the relocation of residents of the Krasnoyaruzhsky district to safer locations.",
            "In the neighboring Belgorod region in southern Russia, Governor Vyacheslav Gladkov announced the relocation of residents from the Krasnoyaruzhsky district to safer locations due to increased enemy activities.",
            claimant="Vyacheslav Gladkov",
            entities=("Vyacheslav Gladkov", "Belgorod region", "Krasnoyaruzhsky district"),
        ),
        claim(
            "Andrey Miskov, head of the Krasnoyaruzhsky district administration, said approximately 11,000 residents of the district had been evacuated.",
            "Andrey Miskov, the head of the district administration, later confirmed that approximately 11,000 residents from the Krasnoyaruzhsky district had been evacuated.",
            claimant="Andrey Miskov",
            entities=("Andrey Miskov", "Krasnoyaruzhsky district", "Belgorod region"),
            quantities=(q("11,000 residents", 11000, "residents evacuated", qualifier="about"),),
        ),
    ],
    "002_53ffd6e50b0f3c6f": [
        claim(
            "Vladimir Putin on Tuesday ordered Russia's armed forces to expel the Ukrainian units that launched an offensive into the Kursk region.",
            "Russian President Vladimir Putin on Tuesday ordered his country’s armed forces to expel Ukrainian units that launched a lightning offensive into the Kursk region in southern Russia",
            entities=("Vladimir Putin", "Russian armed forces", "Kursk region"),
            time_text="on Tuesday",
            event_date=TUE,
        ),
        claim(
            "The Ukrainian offensive in the Kursk region has allowed Ukrainian forces to seize 28 towns.",
            "an offensive that has allowed Kiev’s forces to seize 28 towns and forced 120,000 civilians to flee.",
            entities=("Ukraine", "Kursk region"),
            quantities=(q("28 towns", 28, "towns seized by Ukrainian forces"),),
        ),
        claim(
            "The Ukrainian offensive in the Kursk region has forced 120,000 civilians to flee.",
            "an offensive that has allowed Kiev’s forces to seize 28 towns and forced 120,000 civilians to flee.",
            entities=("Ukraine", "Kursk region"),
            quantities=(q("120,000 civilians", 120000, "civilians who fled"),),
        ),
        claim(
            "Vladimir Putin said at the start of a crisis meeting that the defense ministry's main task is to drive Ukrainian forces out of Russian territory and ensure security on the border.",
            "“The defense ministry’s main task now is to drive the enemy out of our territory and reliably ensure security on the border,” Putin was quoted as saying at the start of a crisis meeting, Russian news agencies reported.",
            claimant="Vladimir Putin",
            entities=("Vladimir Putin", "Russian defense ministry"),
        ),
        claim(
            "The acting governor of the Kursk region announced that at least 12 civilians were killed and 121 injured in the Ukrainian incursion.",
            "At least 12 civilians were killed and 121 others injured in the Ukrainian incursion into the Kursk region, the region’s acting governor announced yesterday.",
            claimant="Alexei Smirnov",
            entities=("Kursk region", "Alexei Smirnov"),
            quantities=(
                q("12 civilians", 12, "civilians killed", qualifier="more_than"),
                q("121 others", 121, "civilians injured"),
            ),
            time_text="yesterday",
            event_date=MON,
        ),
        claim(
            "Alexei Smirnov told Vladimir Putin that 12 civilians had died and 121 had been wounded, including 10 children.",
            "“The number of civilian deaths is 12, the number of wounded is 121, including 10 children,” Alexei Smirnov said during a meeting with Putin.",
            claimant="Alexei Smirnov",
            entities=("Alexei Smirnov", "Vladimir Putin"),
            quantities=(
                q("12", 12, "civilians killed"),
                q("121", 121, "civilians wounded"),
                q("10 children", 10, "children among the wounded"),
            ),
        ),
        claim(
            "Ukraine launched a surprise attack on Russian territory last Tuesday.",
            "Kyiv launched a surprise attack on Russian territory last Tuesday.",
            entities=("Ukraine", "Russia"),
            time_text="last Tuesday",
            event_date=PREV_TUE,
        ),
        claim(
            "Ukrainian forces appear to have crossed the border and penetrated 30 kilometers into Russian territory.",
            "it appears that Ukrainian forces have crossed the border between the two countries and penetrated 30 kilometers into Russian territory.",
            entities=("Ukraine", "Russia", "Kursk region"),
            quantities=(q("30 kilometers", 30, "advance depth", "kilometers"),),
        ),
        claim(
            "Volodymyr Zelensky said Russia launched about 2,000 cross-border strikes from Kursk into Ukraine's Sumy region over the summer.",
            "Zelensky noted that Russia launched about 2,000 cross-border strikes from Kursk into Ukraine’s Sumy region over the summer",
            claimant="Volodymyr Zelensky",
            entities=("Volodymyr Zelensky", "Russia", "Kursk", "Sumy region"),
            quantities=(
                q(
                    "2,000 cross-border strikes",
                    2000,
                    "cross-border strikes from Kursk into Sumy",
                    qualifier="about",
                ),
            ),
            time_text="over the summer",
        ),
        claim(
            "Belgorod governor Vyacheslav Gladkov said the authorities are evacuating parts of the Belgorod region because of the activity of Ukrainian forces.",
            "Vyacheslav Gladkov, governor of the Belgorod region in southwestern Russia, said yesterday that the authorities are evacuating parts of the region due to the activity of Ukrainian forces.",
            claimant="Vyacheslav Gladkov",
            entities=("Vyacheslav Gladkov", "Belgorod region"),
            time_text="yesterday",
            event_date=MON,
        ),
    ],
    "003_16ac1f2c99ced3be": [
        claim(
            "Vladimir Putin held a meeting on Monday with local officials from the border regions and Russia's top security, government and law enforcement personnel.",
            "The scale of the incursion became clearer on Monday when Putin held a meeting with local officials from the border regions as well as some of Russia’s top security, government and law enforcement personnel.",
            entities=("Vladimir Putin", "Russia"),
            time_text="on Monday",
            event_date=MON,
        ),
        claim(
            "Aleksey Smirnov, acting head of the Kursk region, told Vladimir Putin that 28 settlements in the Kursk region were under Ukrainian control.",
            "The acting head of the Kursk region, Aleksey Smirnov, told Putin that 28 settlements in his region were now under Ukrainian control",
            claimant="Aleksey Smirnov",
            entities=("Aleksey Smirnov", "Kursk region", "Vladimir Putin"),
            quantities=(q("28 settlements", 28, "settlements under Ukrainian control"),),
        ),
        claim(
            "Aleksey Smirnov said Ukrainian troops had advanced about 12 kilometers into the Kursk region across a 40-kilometer-wide stretch of the border.",
            "adding that Ukrainian troops had managed to advance some 7.5 miles (12 kilometers) into the territory across a 25-mile (40-kilometer) wide stretch of the border.",
            claimant="Aleksey Smirnov",
            entities=("Aleksey Smirnov", "Kursk region"),
            quantities=(
                q("7.5 miles (12 kilometers)", 12, "advance depth", "kilometers", "about"),
                q(
                    "25-mile (40-kilometer)",
                    40,
                    "width of the advance along the border",
                    "kilometer",
                ),
            ),
        ),
        claim(
            "Ukrainian military chief Oleksandr Syrskyi said on Monday that about 1,000 square kilometers of Russian territory were under Ukrainian control.",
            "Meanwhile, the Ukrainian military chief Oleksandr Syrskyi said on Monday that some 386 square miles (1,000 square kilometers) of Russian territory were now under Ukrainian control.",
            claimant="Oleksandr Syrskyi",
            entities=("Oleksandr Syrskyi", "Russia"),
            quantities=(
                q(
                    "386 square miles (1,000 square kilometers)",
                    1000,
                    "area under Ukrainian control",
                    "square kilometers",
                    "about",
                ),
            ),
            time_text="on Monday",
            event_date=MON,
        ),
        claim(
            "Vladimir Putin told his security chiefs that the Ministry of Defense's main task is to drive Ukrainian forces out of Russian territory and protect the state border.",
            "Putin went on to tell his security chiefs to expel the Ukrainian forces: “The main task is certainly before the Ministry of Defense: to squeeze out, knock out the enemy from our territories and, together with the border guard service, ensure reliable protection of the state border.”",
            claimant="Vladimir Putin",
            entities=("Vladimir Putin", "Russian Ministry of Defense"),
        ),
        claim(
            "Aleksey Smirnov said 180,000 people had been told to evacuate from the Kursk region and 121,000 had already left.",
            "Smirnov said 180,000 people had been told to evacuate and that 121,000 have left already.",
            claimant="Aleksey Smirnov",
            entities=("Aleksey Smirnov", "Kursk region"),
            quantities=(
                q("180,000 people", 180000, "people told to evacuate"),
                q("121,000", 121000, "people evacuated"),
            ),
        ),
        claim(
            "Belgorod governor Vyacheslav Gladkov said people living in the Krasnoyaruzhsky district were being moved to safer places.",
            "Vyacheslav Gladkov, the governor of the neighboring Belgorod region in southern Russia, said people living in the Krasnoyaruzhsky district were being moved to safer places.",
            claimant="Vyacheslav Gladkov",
            entities=("Vyacheslav Gladkov", "Belgorod region", "Krasnoyaruzhsky district"),
        ),
        claim(
            "Andrey Miskov, head of the Krasnoyaruzhsky district administration, said about 11,000 residents of the district were evacuated.",
            "About 11,000 residents from Krasnoyaruzhsky district were evacuated, the head of the district administration, Andrey Miskov, said later.",
            claimant="Andrey Miskov",
            entities=("Andrey Miskov", "Krasnoyaruzhsky district"),
            quantities=(q("11,000 residents", 11000, "residents evacuated", qualifier="about"),),
        ),
    ],
    "004_7ec25a11b7a99eb0": [
        claim(
            "Ukraine entered Russia's Kursk region last Tuesday.",
            "The governor of the Kursk region – which Ukraine entered last Tuesday – told Putin that Ukrainian troops now control 28 villages there.",
            entities=("Ukraine", "Kursk region"),
            time_text="last Tuesday",
            event_date=PREV_TUE,
        ),
        claim(
            "The governor of the Kursk region, Smirnov, told Vladimir Putin that Ukrainian troops now control 28 villages in the Kursk region.",
            "The governor of the Kursk region – which Ukraine entered last Tuesday – told Putin that Ukrainian troops now control 28 villages there.",
            claimant="Smirnov",
            entities=("Smirnov", "Kursk region", "Vladimir Putin"),
            quantities=(q("28 villages", 28, "villages under Ukrainian control"),),
        ),
        claim(
            "Vladimir Putin held a meeting with regional governors and other officials on Monday.",
            "Mr Putin, in a meeting with regional governors and other officials on Monday, said Losses have been mounting dramatically for the armed forces of Ukraine",
            entities=("Vladimir Putin",),
            time_text="on Monday",
            event_date=MON,
        ),
        claim(
            "The Kursk governor Smirnov said Ukrainian troops are 12 km deep inside the Kursk region.",
            "Ukrainian troops are 12km deep inside the area, he said.",
            claimant="Smirnov",
            entities=("Smirnov", "Kursk region"),
            quantities=(q("12km", 12, "advance depth", "km"),),
        ),
        claim(
            "Smirnov told Vladimir Putin that about 2,000 Russian citizens remain in areas of the Kursk region occupied by Ukrainian forces.",
            "Smirnov tells Putin that about 2,000 Russian citizens remain in areas occupied by Ukrainian forces in Kursk.",
            claimant="Smirnov",
            entities=("Smirnov", "Vladimir Putin", "Kursk"),
            quantities=(
                q(
                    "2,000 Russian citizens",
                    2000,
                    "Russian citizens remaining in occupied areas",
                    qualifier="about",
                ),
            ),
        ),
        claim(
            "Smirnov said evacuation of the six border districts of the Kursk region and the Bolshoe Soldatskoe and Lgov districts started on August 8, covering 180,000 people in total.",
            '"On August 8, we started [evacuating] all of the six border districts, plus the Bolshoe Soldatskoe and Lgov districts because they are near a nuclear power station. The total is 180,000 people."',
            claimant="Smirnov",
            entities=("Smirnov", "Kursk region", "Bolshoe Soldatskoe", "Lgov"),
            quantities=(
                q("six border districts", 6, "border districts being evacuated"),
                q("180,000 people", 180000, "people to be evacuated"),
            ),
            time_text="On August 8",
            event_date="2024-08-08",
        ),
        claim(
            "Smirnov said 12 civilians have been killed in the Kursk region and 121 wounded.",
            "He adds that 12 civilians have been killed in the region and 121 others wounded.",
            claimant="Smirnov",
            entities=("Smirnov", "Kursk region"),
            quantities=(
                q("12 civilians", 12, "civilians killed"),
                q("121 others", 121, "civilians wounded"),
            ),
        ),
        claim(
            "The Kursk governor said 121,000 people have been evacuated from their homes, with 59,000 more still to be evacuated.",
            "The Kursk governor added that 121,000 people have now been evacuated from their homes – with 59,000 more to go.",
            claimant="Smirnov",
            entities=("Smirnov", "Kursk region"),
            quantities=(
                q("121,000 people", 121000, "people evacuated"),
                q("59,000", 59000, "people still to be evacuated"),
            ),
        ),
        claim(
            "About 11,000 people in the Belgorod region were told to leave on the morning of publication.",
            "In Belgorod, the region next to Kursk, about 11,000 people were told to leave this morning.",
            entities=("Belgorod region",),
            quantities=(q("11,000 people", 11000, "people told to leave", qualifier="about"),),
            time_text="this morning",
            event_date=TUE,
        ),
        claim(
            "Ukraine's army chief Oleksandr Syrskyi said Ukraine controls around 1,000 sq km of territory in Russia's Kursk region.",
            "Ukraine now controls around 1,000 sq km of territory in Russia's Kursk region and is continuing its military offensive, according to the country's army chief.",
            claimant="Oleksandr Syrskyi",
            entities=("Ukraine", "Kursk region", "Oleksandr Syrskyi"),
            quantities=(q("1,000 sq km", 1000, "area under Ukrainian control", "sq km", "about"),),
        ),
        claim(
            "Volodymyr Zelensky says he has ordered a humanitarian plan to be drawn up for the Kursk area under Ukrainian control.",
            'Zelensky says he has ordered a "humanitarian plan" to be drawn up for the area.',
            claimant="Volodymyr Zelensky",
            entities=("Volodymyr Zelensky", "Kursk region"),
        ),
    ],
}


def _estimate(text: str, chars_per_token: float) -> int:
    return round(len(text) / chars_per_token)


async def build_seed(stem: str, claims: list[dict[str, Any]]) -> None:
    text = seed_text(stem)
    settings = llm_settings(llm_base_url="https://llm.test/v1")
    (chunk,) = split(text, settings.chunk_tokens)  # every seed is one chunk at the default
    for item in claims:
        assert item["quote"] in chunk.text, f"{stem}: not verbatim: {item['quote']!r}"
    ClaimList.model_validate({"claims": claims})
    arguments = json.dumps({"claims": claims}, ensure_ascii=False, separators=(",", ":"))
    sent: dict[str, Any] = {}

    def answer(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        words = "".join(str(m["content"]) for m in body["messages"])
        completion = chat_completion(
            arguments=arguments,
            # cl100k/o200k averages: ~4 characters a token for prose, ~3 for JSON schema.
            prompt_tokens=_estimate(words, 4) + _estimate(json.dumps(body["tools"]), 3) + 11,
            completion_tokens=_estimate(arguments, 3.4),
            seed=stem,
        )
        sent.update(body=body, completion=completion, path=request.url.path)
        return httpx.Response(200, json=completion)

    with respx.mock() as router:
        router.post(path__regex=r"/chat/completions$").mock(side_effect=answer)
        extraction = await LLMExtractor(settings).extract(chunk.text, seed_context())
    assert len(extraction.claims) == len(claims)

    for old in (RECORDINGS / GROUP).glob(f"{stem}.*.json"):
        old.unlink()
    path = save_recording(RECORDINGS / GROUP, stem, sent["path"], sent["body"], sent["completion"])
    print(f"wrote {path.relative_to(RECORDINGS.parent.parent)} ({len(claims)} claims)")


async def main() -> None:
    for stem, claims in SEED_CLAIMS.items():
        await build_seed(stem, claims)


if __name__ == "__main__":
    asyncio.run(main())

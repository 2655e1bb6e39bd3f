# language: da
Egenskab: Tjeklistepunkter i fokus før mødet
  Tjeklisten for beskæftigelsesfaglighed har ti punkter. Tjekket fremhæver de punkter, der passer
  til borgerens fase og de flag, der er rejst, så sagsbehandleren ved, hvad mødet især skal handle
  om. Scenarierne sikrer, at hvert punkt kommer i fokus i de situationer, det er skrevet til – og
  at en borger i god fremgang uden flag ikke får en lang liste af punkter, der ikke er grund til.

  Scenarie: En borger i fremgang uden flag får kun punktet om arbejdsgiverne i fokus
    Givet en borger med disse målinger:
      | dato       | alle |
      | 2026-08-12 | 3    |
      | 2026-11-10 | 4    |
    Og en igangværende indsats "virksomhedspraktik" fra 2026-10-01
    Og en igangværende indsats "hverdagsmestring" fra 2026-10-01
    Og sagsbehandler "sb-1" fra 2025-01-01
    Når tjekket køres den 2026-11-22
    Så er fasen Fremgang
    Og tjeklistepunkt 7 er i fokus
    Men tjeklistepunkt 1 er ikke i fokus
    Og tjeklistepunkt 2 er ikke i fokus
    Og tjeklistepunkt 3 er ikke i fokus
    Og tjeklistepunkt 4 er ikke i fokus
    Og tjeklistepunkt 5 er ikke i fokus
    Og tjeklistepunkt 6 er ikke i fokus
    Og tjeklistepunkt 8 er ikke i fokus
    Og tjeklistepunkt 9 er ikke i fokus
    Og tjeklistepunkt 10 er ikke i fokus

  Scenarie: Tre måneder uden indsats sætter kerneopgaven og den røde tråd i fokus
    Givet en borger med disse målinger:
      | dato       | alle |
      | 2026-08-12 | 3    |
      | 2026-11-10 | 3    |
    Når tjekket køres den 2026-11-22
    Så rejses flaget "no_intervention_3m"
    Og tjeklistepunkt 1 er i fokus
    Og tjeklistepunkt 9 er i fokus

  Scenarie: Stilstand sætter meningen i fokus, ikke arbejdsgiverne
    Givet en borger med disse målinger:
      | dato       | alle |
      | 2026-08-12 | 3    |
      | 2026-11-10 | 3    |
    Og en igangværende indsats "løntilskud" fra 2026-10-01
    Når tjekket køres den 2026-11-22
    Så er fasen Stilstand
    Og tjeklistepunkt 3 er i fokus
    Men tjeklistepunkt 7 er ikke i fokus

  Scenarie: Tilbagegang sætter mening, tro og den røde tråd i fokus
    Givet en borger med disse målinger:
      | dato       | alle | health_coping |
      | 2026-08-12 | 4    | 4             |
      | 2026-11-10 | 3    | 4             |
    Og en igangværende indsats "løntilskud" fra 2026-10-01
    Og en igangværende indsats "hverdagsmestring" fra 2026-10-01
    Når tjekket køres den 2026-11-22
    Så er fasen Tilbagegang
    Og tjeklistepunkt 3 er i fokus
    Og tjeklistepunkt 4 er i fokus
    Og tjeklistepunkt 9 er i fokus
    Men tjeklistepunkt 10 er ikke i fokus

  Scenarie: Afsporing sætter tillid og relation i fokus
    Givet en borger med disse målinger:
      | dato       | alle |
      | 2026-11-10 | 1    |
    Og en igangværende indsats "behandling" fra 2026-10-01
    Når tjekket køres den 2026-11-22
    Så er fasen Afsporing
    Og tjeklistepunkt 10 er i fokus
    Men tjeklistepunkt 3 er ikke i fokus

  Scenarie: Et skift af sagsbehandler sætter den røde tråd og tilliden i fokus
    Givet en borger med disse målinger:
      | dato       | alle |
      | 2026-08-12 | 3    |
      | 2026-11-10 | 4    |
    Og en igangværende indsats "løntilskud" fra 2026-10-01
    Og sagsbehandler "sb-1" fra 2025-01-01
    Og sagsbehandler "sb-2" fra 2026-10-01
    Når tjekket køres den 2026-11-22
    Så rejses flaget "caseworker_change"
    Og tjeklistepunkt 9 er i fokus
    Og tjeklistepunkt 10 er i fokus

  Scenarie: Den femte praktik sætter den individuelle tilgang og den røde tråd i fokus
    Givet en borger med disse målinger:
      | dato       | alle |
      | 2026-11-10 | 3    |
    Og en afsluttet indsats "ekstern_praktik" fra 2024-01-01 til 2024-02-29
    Og en afsluttet indsats "intern_praktik" fra 2024-06-01 til 2024-07-31
    Og en afsluttet indsats "virksomhedspraktik" fra 2025-01-01 til 2025-02-28
    Og en afsluttet indsats "ekstern_praktik" fra 2025-09-01 til 2025-10-31
    Og en igangværende indsats "ekstern_praktik" fra 2026-10-01
    Når tjekket køres den 2026-11-22
    Så rejses flaget "fifth_internship"
    Og tjeklistepunkt 2 er i fokus
    Og tjeklistepunkt 9 er i fokus

  Scenarie: Trappetænkning sætter den individuelle tilgang og arbejdspladserne i fokus
    Givet en borger med disse målinger:
      | dato       | alle |
      | 2026-11-10 | 3    |
    Og en igangværende indsats "løntilskud" fra 2026-10-01
    Og noterne "Borgeren er ikke parat til en virksomhed endnu"
    Når tjekket køres den 2026-11-22
    Så rejses flaget "staircase_language"
    Og tjeklistepunkt 2 er i fokus
    Og tjeklistepunkt 6 er i fokus

  Scenarie: Lav tro hos sagsbehandleren sætter troen og håbet i fokus
    Givet en borger med disse målinger:
      | dato       | alle | caseworker_belief |
      | 2026-11-10 | 3    | 2                 |
    Når tjekket køres den 2026-11-22
    Så rejses flaget "low_caseworker_belief"
    Og tjeklistepunkt 4 er i fokus

  Abstrakt Scenario: Manglende, forældet eller faldende måling sætter progressionen i fokus
    Givet en borger med disse målinger:
      | dato       | alle | work_confidence |
      | <før>      | 4    | 4               |
      | <seneste>  | 4    | <nu>            |
    Når tjekket køres den 2026-11-22
    Så rejses flaget "<flag>"
    Og tjeklistepunkt 5 er i fokus

    Eksempler:
      | før        | seneste    | nu | flag                |
      | 2026-02-10 | 2026-05-12 | 4  | measurement_overdue |
      | 2026-08-12 | 2026-11-10 | 2  | indicator_drop      |

  Scenarie: Ingen måling sætter progressionen i fokus
    Givet en borger uden målinger
    Når tjekket køres den 2026-11-22
    Så er tjeklistepunkt 5 i fokus

  Scenarie: Indsatser uden jobrettet element sætter arbejdspladserne i fokus
    Givet en borger med disse målinger:
      | dato       | alle |
      | 2026-11-10 | 3    |
    Og en igangværende indsats "hverdagsmestring" fra 2026-10-01
    Når tjekket køres den 2026-11-22
    Så rejses flaget "no_job_oriented_element"
    Og tjeklistepunkt 6 er i fokus
    Men tjeklistepunkt 8 er ikke i fokus

  Scenarie: Kun jobrettede indsatser sætter målrettet opkvalificering i fokus
    Givet en borger med disse målinger:
      | dato       | alle |
      | 2026-11-10 | 3    |
    Og en igangværende indsats "løntilskud" fra 2026-10-01
    Når tjekket køres den 2026-11-22
    Så rejses flaget "job_oriented_only"
    Og tjeklistepunkt 8 er i fokus
    Men tjeklistepunkt 6 er ikke i fokus

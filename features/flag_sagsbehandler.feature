# language: da
Egenskab: Flag om sagsbehandleren og noterne
  Hvert skift af sagsbehandler mindsker borgerens jobchance, og i en fase med stilstand er et skift
  særlig kritisk, fordi borgeren i forvejen venter og mangler sammenhæng. Derfor rejses flaget om
  skift af sagsbehandler inden for seks måneder med høj alvor i stilstand og ellers med middel
  alvor. Trappetænkning – "ikke klar", "først bolig, så …" – bremser progressionen, for alle er
  klar til noget; derfor flages sådanne formuleringer i sagsbehandlerens noter. Scenarierne viser
  også, hvad der ikke er et skift (samme sagsbehandler igen, et skift ude i fremtiden) og hvad der
  ikke er trappetænkning.

  Scenarie: Et skift af sagsbehandler i stilstand er særlig kritisk
    Givet en borger med disse målinger:
      | dato       | alle |
      | 2026-05-12 | 3    |
      | 2026-08-12 | 3    |
      | 2026-11-10 | 3    |
    Og en igangværende indsats "virksomhedspraktik" fra 2026-06-01
    Og sagsbehandler "sb-1" fra 2025-01-01
    Og sagsbehandler "sb-2" fra 2026-10-01
    Når tjekket køres den 2026-11-22
    Så er fasen Stilstand
    Og flaget "caseworker_change" rejses med alvor høj

  Scenarie: Også stilstand med kun to målinger gør skiftet særlig kritisk
    Givet en borger med disse målinger:
      | dato       | alle |
      | 2026-08-12 | 3    |
      | 2026-11-10 | 3    |
    Og sagsbehandler "sb-1" fra 2025-01-01
    Og sagsbehandler "sb-2" fra 2026-10-01
    Når tjekket køres den 2026-11-22
    Så er fasen Stilstand
    Og flaget "caseworker_change" rejses med alvor høj

  Abstrakt Scenario: Et skift af sagsbehandler uden for stilstand har middel alvor
    Givet en borger med disse målinger:
      | dato       | alle  | health_coping |
      | 2026-08-12 | <før> | <før>         |
      | 2026-11-10 | <nu>  | <sundhed>     |
    Og sagsbehandler "sb-1" fra 2025-01-01
    Og sagsbehandler "sb-2" fra 2026-10-01
    Når tjekket køres den 2026-11-22
    Så er fasen <fase>
    Og flaget "caseworker_change" rejses med alvor middel

    Eksempler:
      | før | nu | sundhed | fase        |
      | 3   | 4  | 4       | Fremgang    |
      | 4   | 3  | 4       | Tilbagegang |
      | 1   | 1  | 1       | Afsporing   |

  Scenarie: Et skift af sagsbehandler uden målinger har middel alvor
    Givet en borger uden målinger
    Og sagsbehandler "sb-1" fra 2025-01-01
    Og sagsbehandler "sb-2" fra 2026-10-01
    Når tjekket køres den 2026-11-22
    Så er der ingen fase
    Og flaget "caseworker_change" rejses med alvor middel

  Abstrakt Scenario: Et skift inden for seks måneder tæller med
    Givet en borger med disse målinger:
      | dato       | alle |
      | 2026-11-10 | 3    |
    Og sagsbehandler "sb-1" fra 2025-01-01
    Og sagsbehandler "sb-2" fra <skift>
    Når tjekket køres den 2026-11-22
    Så rejses flaget "caseworker_change"

    # 182 dage er 5,98 måneder i motorens regning.
    Eksempler:
      | skift      |
      | 2026-05-24 |
      | 2026-11-22 |

  Abstrakt Scenario: Et skift for mere end seks måneder siden tæller ikke
    Givet en borger med disse målinger:
      | dato       | alle |
      | 2026-11-10 | 3    |
    Og sagsbehandler "sb-1" fra 2025-01-01
    Og sagsbehandler "sb-2" fra <skift>
    Når tjekket køres den 2026-11-22
    Så rejses flaget "caseworker_change" ikke

    # 186 dage er 6,11 måneder.
    Eksempler:
      | skift      |
      | 2026-05-20 |
      | 2025-12-01 |

  Scenarie: Den samme sagsbehandler igen er ikke et skift
    Givet en borger med disse målinger:
      | dato       | alle |
      | 2026-11-10 | 3    |
    Og sagsbehandler "sb-1" fra 2025-01-01
    Og sagsbehandler "sb-1" fra 2026-10-01
    Når tjekket køres den 2026-11-22
    Så rejses flaget "caseworker_change" ikke

  Scenarie: Én sagsbehandler hele vejen er ikke et skift
    Givet en borger med disse målinger:
      | dato       | alle |
      | 2026-11-10 | 3    |
    Og sagsbehandler "sb-1" fra 2026-10-01
    Når tjekket køres den 2026-11-22
    Så rejses flaget "caseworker_change" ikke

  Scenarie: Et skift efter tjekdatoen tæller ikke endnu
    Givet en borger med disse målinger:
      | dato       | alle |
      | 2026-11-10 | 3    |
    Og sagsbehandler "sb-1" fra 2025-01-01
    Og sagsbehandler "sb-2" fra 2026-12-01
    Når tjekket køres den 2026-11-22
    Så rejses flaget "caseworker_change" ikke

  Abstrakt Scenario: Trappetænkning i noterne rejser et flag
    Givet en borger med disse målinger:
      | dato       | alle |
      | 2026-11-10 | 3    |
    Og noterne "<noter>"
    Når tjekket køres den 2026-11-22
    Så rejses flaget "staircase_language" med alvor middel

    # Store og små bogstaver og ekstra mellemrum er ligegyldige.
    Eksempler:
      | noter                                                    |
      | Borgeren er ikke klar til praktik endnu.                 |
      | Hun har BRUG FOR RO efter forløbet.                      |
      | Først bolig, så kan vi se på job.                        |
      | Virker ikke    motiveret for at møde op.                 |
      | Skal være mødestabil, før vi ser på en virksomhed.       |

  Abstrakt Scenario: Noter uden trappetænkning rejser ikke flaget
    Givet en borger med disse målinger:
      | dato       | alle |
      | 2026-11-10 | 3    |
    Og noterne "<noter>"
    Når tjekket køres den 2026-11-22
    Så rejses flaget "staircase_language" ikke

    Eksempler:
      | noter                                                 |
      | Borgeren vil gerne i praktik hos en tømrer.           |
      | Vi aftalte tre timer om ugen i virksomhedspraktik.    |
      |                                                       |

  Scenarie: Uden noter er der ingen trappetænkning at finde
    Givet en borger med disse målinger:
      | dato       | alle |
      | 2026-11-10 | 3    |
    Når tjekket køres den 2026-11-22
    Så rejses flaget "staircase_language" ikke

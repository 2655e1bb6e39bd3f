# language: da
Egenskab: Borgerens fase før mødet
  Tjekket placerer borgeren i én af fire faser – Fremgang, Stilstand, Tilbagegang eller Afsporing –
  ud fra niveauet (gennemsnittet af borgerens egne, seneste vurderinger) og ændringen siden sidste
  måling (gennemsnitlig ændring pr. indikator, som borgeren selv vurderer). Grænserne er vores egne
  standardværdier og står i rules/phases.yaml. Scenarierne her låser grænserne fast: ligger en
  vurdering præcis på en grænse, skal vi vide, hvilken side den falder på, og flytter nogen en
  grænse, skal det kunne ses her. De viser også rækkefølgen: Afsporing går forud for Tilbagegang,
  som går forud for Fremgang, som går forud for Stilstand.

  Abstrakt Scenario: Et meget lavt niveau er afsporing – grænsen er 1,8
    Givet en borger med disse målinger:
      | dato       | health_coping | opportunity_knowledge | work_confidence | cooperation | wage_realism |
      | 2026-11-10 | <score>       | 2                     | 2               | 2           | 2            |
    Når tjekket køres den 2026-11-22
    Så er fasen <fase>
    Og fasen afgøres af reglen "<regel>"
    Og sikkerheden er lav

    # Fem indikatorer: (1+2+2+2+2)/5 = 1,8 ligger på grænsen; (2+2+2+2+2)/5 = 2,0 gør ikke.
    Eksempler:
      | score | fase      | regel                |
      | 1     | Afsporing | derailment_low_level |
      | 2     | Stilstand | standstill_default   |

  Scenarie: Et niveau lige over 1,8 er ikke afsporing
    Givet en borger med disse målinger:
      | dato       | alle | job_search |
      | 2026-11-10 | 2    | 1          |
    Når tjekket køres den 2026-11-22
    Så er fasen Stilstand
    Og sikkerheden er lav

  Abstrakt Scenario: Et brat fald er afsporing – grænsen er et fald på 1 point i gennemsnit
    Givet en borger med disse målinger:
      | dato       | alle | health_coping |
      | 2026-08-12 | 4    | 4             |
      | 2026-11-10 | 3    | <seneste>     |
    Når tjekket køres den 2026-11-22
    Så er fasen <fase>
    Og fasen afgøres af reglen "<regel>"
    Og sikkerheden er middel

    # Alle seks indikatorer falder 1 point: ændring -1,0. Fem falder, én står stille: ændring -0,83.
    Eksempler:
      | seneste | fase        | regel                 |
      | 3       | Afsporing   | derailment_steep_fall |
      | 4       | Tilbagegang | regress_fall          |

  Scenarie: Et fald på ét point over 29 måneder er ikke et brat fald
    # Der måles cirka hver tredje måned; ét point over 29 måneder er 0,1 point pr. kvartal.
    Givet en borger med disse målinger:
      | dato       | alle |
      | 2024-04-10 | 4    |
      | 2026-09-10 | 3    |
    Når tjekket køres den 2026-11-22
    Så er fasen Tilbagegang
    Og fasen afgøres af reglen "regress_fall"
    Og flaget "long_measurement_gap" rejses

  Abstrakt Scenario: Et tydeligt fald er tilbagegang – grænsen er -0,4
    Givet en borger med disse målinger:
      | dato       | health_coping | opportunity_knowledge | work_confidence | cooperation | wage_realism |
      | 2026-08-12 | 3             | 3                     | 3               | 3           | 3            |
      | 2026-11-10 | 2             | <anden>               | 3               | 3           | 3            |
    Når tjekket køres den 2026-11-22
    Så er fasen <fase>
    Og fasen afgøres af reglen "<regel>"

    # To af fem indikatorer falder 1 point: ændring -0,4. Kun én falder: ændring -0,2.
    Eksempler:
      | anden | fase        | regel              |
      | 2     | Tilbagegang | regress_fall       |
      | 3     | Stilstand   | standstill_default |

  Abstrakt Scenario: En tydelig stigning er fremgang – grænsen er +0,4
    Givet en borger med disse målinger:
      | dato       | health_coping | opportunity_knowledge | work_confidence | cooperation | wage_realism |
      | 2026-08-12 | 3             | 3                     | 3               | 3           | 3            |
      | 2026-11-10 | 4             | <anden>               | 3               | 3           | 3            |
    Når tjekket køres den 2026-11-22
    Så er fasen <fase>
    Og fasen afgøres af reglen "<regel>"

    # To af fem indikatorer stiger 1 point: ændring +0,4. Kun én stiger: ændring +0,2.
    Eksempler:
      | anden | fase      | regel              |
      | 4     | Fremgang  | progress_rise      |
      | 3     | Stilstand | standstill_default |

  Abstrakt Scenario: Et højt niveau uden fald og med en jobrettet indsats i gang er fremgang
    Givet en borger med disse målinger:
      | dato       | alle | health_coping | opportunity_knowledge | work_confidence |
      | 2026-08-12 | 3    | 4             | 4                     | <før>           |
      | 2026-11-10 | 3    | 4             | 4                     | <nu>            |
    Og en <status> indsats "<indsats>" fra <start>
    Når tjekket køres den 2026-11-22
    Så er fasen <fase>
    Og fasen afgøres af reglen "<regel>"

    # Niveauet (4+4+4+3+3+3)/6 = 3,5 ligger præcis på grænsen. Række 2: niveau 3,33. Række 3: et lille
    # fald (-0,17) er nok til at udelukke reglen. Række 4 og 5: en social indsats eller en planlagt
    # jobrettet indsats er ikke en jobrettet indsats i gang.
    Eksempler:
      | før | nu | status       | indsats            | start      | fase      | regel                   |
      | 4   | 4  | igangværende | virksomhedspraktik | 2026-10-01 | Fremgang  | progress_high_level_job |
      | 3   | 3  | igangværende | virksomhedspraktik | 2026-10-01 | Stilstand | standstill_default      |
      | 5   | 4  | igangværende | virksomhedspraktik | 2026-10-01 | Stilstand | standstill_default      |
      | 4   | 4  | igangværende | hverdagsmestring   | 2026-10-01 | Stilstand | standstill_default      |
      | 4   | 4  | planlagt     | virksomhedspraktik | 2027-01-04 | Stilstand | standstill_default      |

  Scenarie: Et højt niveau med en jobrettet indsats er fremgang allerede ved første måling
    Givet en borger med disse målinger:
      | dato       | alle | health_coping | opportunity_knowledge | work_confidence |
      | 2026-11-10 | 3    | 4             | 4                     | 4               |
    Og en igangværende indsats "løntilskud" fra 2026-09-01
    Når tjekket køres den 2026-11-22
    Så er fasen Fremgang
    Og fasen afgøres af reglen "progress_high_level_job"
    Og sikkerheden er lav

  Scenarie: En afsluttet jobrettet indsats tæller ikke som en indsats i gang
    Givet en borger med disse målinger:
      | dato       | alle |
      | 2026-08-12 | 4    |
      | 2026-11-10 | 4    |
    Og en afsluttet indsats "løntilskud" fra 2026-05-01 til 2026-10-31
    Når tjekket køres den 2026-11-22
    Så er fasen Stilstand

  Abstrakt Scenario: Vurderinger, der står stille i to perioder, er stilstand
    Givet en borger med disse målinger:
      | dato       | health_coping | opportunity_knowledge | work_confidence | cooperation | wage_realism |
      | 2026-05-12 | <første>      | <anden>               | 3               | 3           | 3            |
      | 2026-08-12 | 3             | 3                     | 3               | 3           | 3            |
      | 2026-11-10 | 3             | 3                     | 3               | 3           | 3            |
    Når tjekket køres den 2026-11-22
    Så er fasen Stilstand
    Og fasen afgøres af reglen "<regel>"
    Og sikkerheden er høj

    # Den seneste periode er flad (0). Perioden før ændrer sig +0,4, +0,2, 0, -0,2 eller -0,4:
    # kun når den også ligger strengt mellem -0,4 og +0,4, er stilstanden "flad i to perioder".
    Eksempler:
      | første | anden | regel              |
      | 2      | 2     | standstill_default |
      | 2      | 3     | standstill_flat    |
      | 3      | 3     | standstill_flat    |
      | 4      | 3     | standstill_flat    |
      | 4      | 4     | standstill_default |

  Abstrakt Scenario: Et støt fald over to perioder er tilbagegang – grænsen er -0,6 over to perioder
    Givet en borger med disse målinger:
      | dato       | health_coping | opportunity_knowledge | work_confidence | cooperation | wage_realism |
      | 2026-05-12 | 4             | 4                     | 4               | <første>    | 3            |
      | 2026-08-12 | 3             | 4                     | 4               | 3           | 3            |
      | 2026-11-10 | 3             | 3                     | 4               | 3           | 3            |
    Når tjekket køres den 2026-11-22
    Så er fasen <fase>
    Og fasen afgøres af reglen "<regel>"

    # Hver periode falder kun -0,2 (under grænsen -0,4), men over to perioder falder
    # vurderingerne -0,6 (med første = 4) eller -0,4 (med første = 3).
    Eksempler:
      | første | fase        | regel              |
      | 4      | Tilbagegang | regress_steady_fall |
      | 3      | Stilstand   | standstill_flat     |

  Abstrakt Scenario: En støt stigning over to perioder er fremgang – grænsen er +0,6 over to perioder
    Givet en borger med disse målinger:
      | dato       | health_coping | opportunity_knowledge | work_confidence | cooperation | wage_realism |
      | 2026-05-12 | 2             | 2                     | 2               | <første>    | 3            |
      | 2026-08-12 | 3             | 2                     | 2               | 3           | 3            |
      | 2026-11-10 | 3             | 3                     | 2               | 3           | 3            |
    Når tjekket køres den 2026-11-22
    Så er fasen <fase>
    Og fasen afgøres af reglen "<regel>"

    # Hver periode stiger kun +0,2, men over to perioder +0,6 (med første = 2) eller +0,4 (med første = 3).
    Eksempler:
      | første | fase      | regel               |
      | 2      | Fremgang  | progress_steady_rise |
      | 3      | Stilstand | standstill_flat      |

  Scenarie: To målinger uden tydelig ændring er stilstand med middel sikkerhed
    Givet en borger med disse målinger:
      | dato       | alle |
      | 2026-08-12 | 3    |
      | 2026-11-10 | 3    |
    Når tjekket køres den 2026-11-22
    Så er fasen Stilstand
    Og fasen afgøres af reglen "standstill_default"
    Og sikkerheden er middel

  Scenarie: Uden målinger er der ingen fase
    Givet en borger uden målinger
    Og en igangværende indsats "ekstern_praktik" fra 2026-09-01
    Når tjekket køres den 2026-11-22
    Så er der ingen fase
    Og sikkerheden er ingen
    Og flaget "no_measurement" rejses

  Scenarie: Én måling giver lav sikkerhed
    Givet en borger med disse målinger:
      | dato       | alle |
      | 2026-11-10 | 3    |
    Når tjekket køres den 2026-11-22
    Så er fasen Stilstand
    Og sikkerheden er lav

  Scenarie: En måling dateret efter tjekket tæller ikke med
    Givet en borger med disse målinger:
      | dato       | alle |
      | 2026-08-12 | 3    |
      | 2026-12-01 | 1    |
    Når tjekket køres den 2026-11-22
    Så er fasen Stilstand
    Og sikkerheden er lav

  Scenarie: Afsporing går forud for fremgang
    Givet en borger med disse målinger:
      | dato       | alle | health_coping | opportunity_knowledge |
      | 2026-08-12 | 1    | 1             | 1                     |
      | 2026-11-10 | 1    | 3             | 2                     |
    Og en igangværende indsats "virksomhedspraktik" fra 2026-10-01
    Når tjekket køres den 2026-11-22
    Så er fasen Afsporing
    Og fasen afgøres af reglen "derailment_low_level"

  Scenarie: Tilbagegang går forud for et højt niveau med en jobrettet indsats
    Givet en borger med disse målinger:
      | dato       | alle | health_coping |
      | 2026-08-12 | 5    | 5             |
      | 2026-11-10 | 4    | 5             |
    Og en igangværende indsats "løntilskud" fra 2026-09-01
    Når tjekket køres den 2026-11-22
    Så er fasen Tilbagegang
    Og fasen afgøres af reglen "regress_fall"

  Scenarie: Fasen kan skrives med småt eller som id
    Givet en borger med disse målinger:
      | dato       | alle |
      | 2026-08-12 | 3    |
      | 2026-11-10 | 4    |
    Når tjekket køres den 2026-11-22
    Så er fasen fremgang
    Og fasen er progress

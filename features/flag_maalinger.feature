# language: da
Egenskab: Flag om målingerne
  BIP målte borgernes progression cirka hver tredje måned. Uden en frisk måling kan fasen ikke
  vurderes, og et fald kan gå ubemærket hen. Sagsbehandlerens tro på, at borgeren kan få et job,
  er den indikator, der skiller sig ud i BIP; en lav tro skal tages op i sparring, og en stor afstand
  mellem borgerens egen tro og sagsbehandlerens er værd at tale om. Et stort fald på en enkelt
  indikator kan drukne i gennemsnittet og må ikke overses. Scenarierne viser, hvornår flagene
  rejses, og – lige så vigtigt – hvornår de ikke gør.

  Scenarie: Ingen målinger rejser et højt flag
    Givet en borger uden målinger
    Når tjekket køres den 2026-11-22
    Så rejses flaget "no_measurement" med alvor høj

  Scenarie: Én måling er nok til at undgå flaget om manglende måling
    Givet en borger med disse målinger:
      | dato       | alle |
      | 2026-11-10 | 3    |
    Når tjekket køres den 2026-11-22
    Så rejses flaget "no_measurement" ikke

  Abstrakt Scenario: En måling, der er mere end tre måneder gammel, er forældet
    Givet en borger med disse målinger:
      | dato     | alle |
      | <målt>   | 3    |
    Når tjekket køres den 2026-11-22
    Så rejses flaget "measurement_overdue" med alvor middel

    # Motoren regner en måned som 30,44 dage: 93 dage er 3,06 måneder.
    Eksempler:
      | målt       |
      | 2026-08-21 |
      | 2026-05-12 |

  Abstrakt Scenario: En måling, der er højst tre måneder gammel, er ikke forældet
    Givet en borger med disse målinger:
      | dato     | alle |
      | <målt>   | 3    |
    Når tjekket køres den 2026-11-22
    Så rejses flaget "measurement_overdue" ikke

    # 91 dage er 2,99 måneder.
    Eksempler:
      | målt       |
      | 2026-08-23 |
      | 2026-11-10 |
      | 2026-11-22 |

  Scenarie: Det er den seneste måling, der tæller
    Givet en borger med disse målinger:
      | dato       | alle |
      | 2026-02-10 | 3    |
      | 2026-11-10 | 3    |
    Når tjekket køres den 2026-11-22
    Så rejses flaget "measurement_overdue" ikke

  Abstrakt Scenario: Sagsbehandlerens lave tro på borgeren rejser et flag – grænsen er 2
    Givet en borger med disse målinger:
      | dato       | alle | caseworker_belief |
      | 2026-11-10 | 3    | <tro>             |
    Når tjekket køres den 2026-11-22
    Så rejses flaget "low_caseworker_belief" med alvor middel

    Eksempler:
      | tro |
      | 1   |
      | 2   |

  Scenarie: Sagsbehandlerens tro på 3 rejser ikke flaget
    Givet en borger med disse målinger:
      | dato       | alle | caseworker_belief |
      | 2026-11-10 | 3    | 3                 |
    Når tjekket køres den 2026-11-22
    Så rejses flaget "low_caseworker_belief" ikke

  Scenarie: Det er sagsbehandlerens seneste vurdering, der tæller
    Givet en borger med disse målinger:
      | dato       | alle | caseworker_belief |
      | 2026-08-12 | 3    | 1                 |
      | 2026-11-10 | 3    | 4                 |
    Når tjekket køres den 2026-11-22
    Så rejses flaget "low_caseworker_belief" ikke

  Abstrakt Scenario: To point eller mere mellem borgerens og sagsbehandlerens tro rejser et flag
    Givet en borger med disse målinger:
      | dato       | alle | work_confidence | caseworker_belief |
      | 2026-11-10 | 3    | <borger>        | <sagsbehandler>   |
    Når tjekket køres den 2026-11-22
    Så rejses flaget "belief_gap" med alvor lav

    # Afstanden tæller begge veje.
    Eksempler:
      | borger | sagsbehandler |
      | 5      | 3             |
      | 1      | 3             |
      | 2      | 5             |

  Abstrakt Scenario: Mindre end to point mellem borgerens og sagsbehandlerens tro rejser ikke flaget
    Givet en borger med disse målinger:
      | dato       | alle | work_confidence | caseworker_belief |
      | 2026-11-10 | 3    | <borger>        | <sagsbehandler>   |
    Når tjekket køres den 2026-11-22
    Så rejses flaget "belief_gap" ikke

    Eksempler:
      | borger | sagsbehandler |
      | 4      | 3             |
      | 3      | 3             |
      | 2      | 3             |

  Scenarie: Afstanden kan kun måles, når begge har vurderet
    Givet en borger med disse målinger:
      | dato       | work_confidence | goal_directed |
      | 2026-11-10 | 5               | 1             |
    Når tjekket køres den 2026-11-22
    Så rejses flaget "belief_gap" ikke
    Og flaget "low_caseworker_belief" rejses ikke

  Abstrakt Scenario: Et fald på to point eller mere på én jobrelateret indikator rejser et flag
    Givet en borger med disse målinger:
      | dato       | alle | <indikator> |
      | 2026-08-12 | 4    | 4           |
      | 2026-11-10 | 4    | <nu>        |
    Når tjekket køres den 2026-11-22
    Så rejses flaget "indicator_drop" med alvor middel

    # Et fald på 2 point på én af seks indikatorer giver kun en gennemsnitlig ændring på -0,33:
    # fasen er stilstand, men flaget fanger faldet. Sagsbehandlerens indikatorer tæller også.
    Eksempler:
      | indikator         | nu |
      | work_confidence   | 2  |
      | job_search        | 1  |
      | caseworker_belief | 2  |

  Scenarie: Et stort fald på én indikator gemmer sig i gennemsnittet
    Givet en borger med disse målinger:
      | dato       | alle | work_confidence |
      | 2026-08-12 | 4    | 4               |
      | 2026-11-10 | 4    | 2               |
    Når tjekket køres den 2026-11-22
    Så er fasen Stilstand
    Og flaget "indicator_drop" rejses

  Abstrakt Scenario: Et fald på ét point rejser ikke flaget om fald på en indikator
    Givet en borger med disse målinger:
      | dato       | alle | work_confidence |
      | 2026-08-12 | 4    | 4               |
      | 2026-11-10 | 4    | <nu>            |
    Når tjekket køres den 2026-11-22
    Så rejses flaget "indicator_drop" ikke

    Eksempler:
      | nu |
      | 3  |
      | 4  |
      | 5  |

  Scenarie: Med kun én måling kan intet fald ses
    Givet en borger med disse målinger:
      | dato       | alle |
      | 2026-11-10 | 1    |
    Når tjekket køres den 2026-11-22
    Så rejses flaget "indicator_drop" ikke

  Scenarie: Målinger uden borgerens egne svar giver ingen fase, men et højt flag
    Givet en borger med disse målinger:
      | dato       | caseworker_belief | goal_directed | competence_realism |
      | 2026-08-12 | 3                 | 3             | 3                  |
      | 2026-11-10 | 3                 | 3             | 3                  |
    Når tjekket køres den 2026-11-22
    Så er der ingen fase
    Og flaget "no_own_ratings" rejses med alvor høj
    Men flaget "no_measurement" rejses ikke

  Scenarie: En seneste måling med kun sagsbehandlerens svar: fasen bygger på den forrige
    Givet en borger med disse målinger:
      | dato       | alle | caseworker_belief | goal_directed | competence_realism |
      | 2026-05-12 | 2    | 3                 | 3             | 3                  |
      | 2026-08-12 | 3    | 3                 | 3             | 3                  |
      | 2026-11-10 |      | 3                 | 3             | 3                  |
    Og en igangværende indsats "mentor" fra 2026-03-01
    Og en igangværende indsats "netværk" fra 2026-03-01
    Når tjekket køres den 2026-11-22
    Så er fasen Fremgang
    Og sikkerheden er lav
    Og flaget "latest_without_own_ratings" rejses med alvor middel

  Scenarie: Mere end seks måneder mellem målingerne rejser et flag
    Givet en borger med disse målinger:
      | dato       | alle |
      | 2026-01-10 | 3    |
      | 2026-09-10 | 3    |
    Når tjekket køres den 2026-11-22
    Så rejses flaget "long_measurement_gap" med alvor middel

  Scenarie: Tre måneder mellem målingerne er den almindelige rytme
    Givet en borger med disse målinger:
      | dato       | alle |
      | 2026-06-10 | 3    |
      | 2026-09-10 | 3    |
    Når tjekket køres den 2026-11-22
    Så rejses flaget "long_measurement_gap" ikke
